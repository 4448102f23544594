/// Hides passwords in connection strings before they are printed.
public enum SecretMasking {
  /// The mask that replaces a secret.
  public static let mask = "****"

  /// `connection` with any password replaced by `****`: the `user:password@` part of a URI, a
  /// `password=` query parameter, and a `password=` key in a libpq key=value string.
  public static func maskConnectionString(_ connection: String) -> String {
    if let schemeEnd = connection.firstRange(of: "://") {
      var result = String(connection[..<schemeEnd.upperBound])
      var rest = Substring(connection[schemeEnd.upperBound...])
      // libpq reads the user info up to an '@' before the first '/', so a password may hold
      // '?', '#' or '&': the user info is everything before the last such '@'.
      let slash = rest.firstIndex(of: "/") ?? rest.endIndex
      if let at = rest[..<slash].lastIndex(of: "@") {
        let userInfo = rest[..<at]
        if let colon = userInfo.firstIndex(of: ":") {
          result += userInfo[..<colon] + ":" + mask
        } else {
          result += userInfo
        }
        result += "@"
        rest = rest[rest.index(after: at)...]
      }
      let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
      result += rest[..<hostEnd]
      return result + maskQueryPassword(String(rest[hostEnd...]))
    }
    return maskKeyValuePassword(connection)
  }

  private static func maskQueryPassword(_ tail: String) -> String {
    guard let question = tail.firstIndex(of: "?") else { return tail }
    let query = tail[tail.index(after: question)...]
    let parts = query.split(separator: "&", omittingEmptySubsequences: false).map {
      part -> String in
      let lower = part.lowercased()
      return lower.hasPrefix("password=") ? "password=" + mask : String(part)
    }
    return tail[...question] + parts.joined(separator: "&")
  }

  private static func maskKeyValuePassword(_ connection: String) -> String {
    // key = value pairs separated by spaces; values may be single-quoted with \' escapes.
    var output = ""
    var index = connection.startIndex
    while index < connection.endIndex {
      let rest = connection[index...]
      let lower = rest.lowercased()
      let atWordStart =
        index == connection.startIndex || connection[connection.index(before: index)] == " "
      if atWordStart, lower.hasPrefix("password") {
        var cursor = connection.index(index, offsetBy: 8)
        while cursor < connection.endIndex, connection[cursor] == " " {
          cursor = connection.index(after: cursor)
        }
        if cursor < connection.endIndex, connection[cursor] == "=" {
          cursor = connection.index(after: cursor)
          while cursor < connection.endIndex, connection[cursor] == " " {
            cursor = connection.index(after: cursor)
          }
          if cursor < connection.endIndex, connection[cursor] == "'" {
            cursor = connection.index(after: cursor)
            while cursor < connection.endIndex, connection[cursor] != "'" {
              if connection[cursor] == "\\" { cursor = connection.index(after: cursor) }
              if cursor < connection.endIndex { cursor = connection.index(after: cursor) }
            }
            if cursor < connection.endIndex { cursor = connection.index(after: cursor) }
          } else {
            while cursor < connection.endIndex, connection[cursor] != " " {
              cursor = connection.index(after: cursor)
            }
          }
          output += "password=" + mask
          index = cursor
          continue
        }
      }
      output.append(connection[index])
      index = connection.index(after: index)
    }
    return output
  }
}
