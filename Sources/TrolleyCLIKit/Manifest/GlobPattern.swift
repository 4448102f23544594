#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A shell-style path pattern: `*`, `?` and `[...]` match within one path segment, `**` matches
/// any number of segments (including none). Hidden names only match patterns that start with '.'.
public struct GlobPattern: Sendable {
  /// The longest leading folder without wildcards: where the walk starts.
  public let root: String
  /// The segments below `root` that each file must match.
  let segments: [String]

  /// True if `text` contains a wildcard character.
  public static func hasWildcard(_ text: String) -> Bool {
    text.contains(where: { "*?[".contains($0) })
  }

  /// Splits `pattern` into its fixed folder and the wildcard segments below it.
  public init(_ pattern: String) {
    let absolute = pattern.hasPrefix("/")
    let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    var fixed: [String] = []
    var index = 0
    while index < parts.count - 1, !Self.hasWildcard(parts[index]) {
      fixed.append(parts[index])
      index += 1
    }
    let joined = fixed.joined(separator: "/")
    root = absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    segments = Array(parts[index...])
  }

  /// True if `relativePath` (below `root`, '/'-separated) matches the pattern.
  public func matches(relativePath: String) -> Bool {
    let names = relativePath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    return Self.match(segments[...], names[...])
  }

  private static func match(_ pattern: ArraySlice<String>, _ names: ArraySlice<String>) -> Bool {
    guard let first = pattern.first else { return names.isEmpty }
    if first == "**" {
      let rest = pattern.dropFirst()
      var tail = names
      while true {
        if match(rest, tail) { return true }
        guard let name = tail.first, !name.hasPrefix(".") else { return false }
        tail = tail.dropFirst()
      }
    }
    guard let name = names.first else { return false }
    guard fnmatch(first, name, FNM_PERIOD) == 0 else { return false }
    return match(pattern.dropFirst(), names.dropFirst())
  }
}
