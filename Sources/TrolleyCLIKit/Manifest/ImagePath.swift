#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns the image references operators write into what workers can open on any machine:
/// absolute paths, or URLs left untouched.
public enum ImagePath {
  /// Image file extensions a folder walk picks up (compared case-insensitively).
  /// These are the formats the worker's image decoder reads.
  public static let folderExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "gif", "bmp"]

  /// True when `reference` is a URL (`scheme://...`) rather than a local path.
  public static func isURL(_ reference: String) -> Bool {
    guard let range = reference.firstRange(of: "://") else { return false }
    let scheme = reference[..<range.lowerBound]
    return !scheme.isEmpty
      && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
  }

  /// The process's working directory.
  public static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    return buffer.withUnsafeMutableBufferPointer { pointer in
      guard let base = pointer.baseAddress, getcwd(base, pointer.count) != nil else { return "/" }
      return String(cString: base)
    }
  }

  /// `reference` as an absolute path (resolved against `base`), or unchanged if it is a URL.
  public static func resolve(_ reference: String, relativeTo base: String) -> String {
    if isURL(reference) || reference.hasPrefix("/") { return normalize(reference) }
    return normalize(base + "/" + reference)
  }

  /// Removes `.` segments, empty segments and `..` where it can, without touching the file system.
  public static func normalize(_ path: String) -> String {
    if isURL(path) { return path }
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == "..", let last = parts.last, last != ".." {
        parts.removeLast()
        continue
      }
      parts.append(part)
    }
    let joined = parts.joined(separator: "/")
    return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
  }

  /// The folder holding `path` ("." for a bare file name).
  public static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// The lowercased extension of `name` without its dot, or "".
  public static func fileExtension(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return name[name.index(after: dot)...].lowercased()
  }
}
