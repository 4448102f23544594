public import Foundation

/// A fresh folder under the temporary directory for one test, removed when the value is released.
public final class TemporaryFolder: Sendable {
  /// The folder's absolute path.
  public let path: String

  /// - Parameter prefix: The start of the folder's name, naming the suite that made it.
  public init(prefix: String = "trolley-test") throws {
    let template = NSTemporaryDirectory() + prefix + "-XXXXXX"
    var bytes = Array(template.utf8CString)
    guard let made = mkdtemp(&bytes) else { throw CocoaError(.fileWriteUnknown) }
    path = String(cString: made)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `text` to `name` (creating folders) and returns the full path.
  @discardableResult
  public func write(_ name: String, _ text: String) throws -> String {
    let full = path + "/" + name
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    return full
  }

  /// The text of `name` inside the folder.
  public func read(_ name: String) throws -> String {
    try String(contentsOfFile: path + "/" + name, encoding: .utf8)
  }
}
