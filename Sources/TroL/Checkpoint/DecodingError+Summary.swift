internal import Foundation

extension DecodingError {
  /// A one-line explanation naming the JSON key path, for error messages about config and
  /// header files.
  var summary: String {
    func location(_ context: Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "" : "key '\(keys.joined(separator: "."))': "
    }
    switch self {
    case .dataCorrupted(let context):
      let underlying =
        (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
      return "\(location(context))invalid JSON (\(underlying ?? context.debugDescription))"
    case .keyNotFound(let key, let context):
      return "\(location(context))missing required key '\(key.stringValue)'"
    case .typeMismatch(let type, let context): return "\(location(context))expected \(type)"
    case .valueNotFound(let type, let context):
      return "\(location(context))expected \(type), found null"
    @unknown default: return "\(self)"
    }
  }
}
