public import Foundation

/// Where the tests find the golden fixtures: the repository's own copy in `Tests/Fixtures`
/// (refreshed from the shared set by `Ops/sync-fixtures`), or `$TROLLEY_FIXTURES` when set.
/// Tests never read anything outside the repository unless that variable says so.
public enum TestFixtures {
  /// The `trol-tiny` folder: one sub-folder per family (`internlm2`, `phi3`).
  public static var trolTiny: String {
    if let override = ProcessInfo.processInfo.environment["TROLLEY_FIXTURES"], !override.isEmpty {
      return override
    }
    return repository.appendingPathComponent("Tests/Fixtures/trol-tiny").path
  }

  /// The repository root: #filePath is `<repo>/Sources/TestFixtures/TestFixtures.swift`.
  public static var repository: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// `Tests/Fixtures/image-formats`: one picture as PNG, WebP, GIF and BMP, each with Pillow's
  /// decoded RGB bytes beside it (`<file>.rgb`; written by the folder's generate.py).
  public static var imageFormats: String {
    repository.appendingPathComponent("Tests/Fixtures/image-formats").path
  }

  /// The `trol-tiny` folder as a URL.
  public static var trolTinyURL: URL { URL(fileURLWithPath: trolTiny) }
}
