import Foundation

/// Paths to the golden fixtures in `<repo>/../shared/fixtures/trol-tiny` (or `$TROLLEY_FIXTURES`).
enum Fixtures {
  static var root: String {
    if let override = ProcessInfo.processInfo.environment["TROLLEY_FIXTURES"], !override.isEmpty {
      return override
    }
    let repository = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return repository.deletingLastPathComponent().appendingPathComponent(
      "shared/fixtures/trol-tiny"
    ).path
  }

  static func model(_ family: String) -> String { "\(root)/\(family)/model" }
  static func image(_ family: String) -> String { "\(root)/\(family)/image.png" }
}
