import Foundation

/// A fresh folder under /tmp for one test, removed when the value is released.
final class TemporaryFolder {
  let path: String

  init() throws {
    let template = NSTemporaryDirectory() + "trolley-clikit-XXXXXX"
    var bytes = Array(template.utf8CString)
    guard let made = mkdtemp(&bytes) else { throw CocoaError(.fileWriteUnknown) }
    path = String(cString: made)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `text` to `name` (creating folders) and returns the full path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let full = path + "/" + name
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    return full
  }
}
