import Postgres

/// Makes reports storable: jsonb cannot hold U+0000 (a tokenizer can emit byte 0) and text cannot
/// hold NUL, and one unstorable report must never fail the batch it is acknowledged in.
enum StorableOutcome {
  /// How the message of a report replaced because it could not be stored begins.
  static let unstorablePrefix = "the job's report could not be stored"

  /// `completion` with `\u0000` escapes in its result replaced by `\ufffd` (U+FFFD, the
  /// replacement character) and NUL characters dropped from its error text.
  static func sanitized(_ completion: JobCompletion) -> JobCompletion {
    var copy = completion
    switch completion.outcome {
    case .succeeded(let result):
      if let clean = replacingNulEscapes(result.bytes) {
        copy.outcome = .succeeded(result: PostgresJSONB(bytes: clean))
      }
    case .failed(let error, let delay):
      copy.outcome = .failed(error: withoutNul(error), retryDelay: delay)
    case .failedPermanently(let error):
      copy.outcome = .failedPermanently(error: withoutNul(error))
    case .cancelled(let reason):
      copy.outcome = .cancelled(reason: reason.map(withoutNul))
    case .handedBack:
      break
    }
    return copy
  }

  /// The JSON text with every `\u0000` escape replaced, or nil when it has none.
  ///
  /// In JSON a backslash appears only inside strings and always starts a two-character escape
  /// (`\\` included), so stepping over escapes pair by pair never mistakes the `u0000` of an
  /// escaped backslash (`\\u0000`, the six characters `\u0000`) for a NUL.
  static func replacingNulEscapes(_ bytes: [UInt8]) -> [UInt8]? {
    let backslash = UInt8(ascii: "\\")
    let pattern: [UInt8] = Array("u0000".utf8)
    let replacement: [UInt8] = Array("ufffd".utf8)
    var out: [UInt8]?
    var index = 0
    while index < bytes.count {
      guard bytes[index] == backslash, index + 1 < bytes.count else {
        index += 1
        continue
      }
      if index + 6 <= bytes.count, bytes[(index + 1)..<(index + 6)].elementsEqual(pattern) {
        if out == nil { out = bytes }
        out?.replaceSubrange((index + 1)..<(index + 6), with: replacement)
        index += 6
      } else {
        index += 2
      }
    }
    return out
  }

  static func withoutNul(_ text: String) -> String {
    text.contains("\u{0}") ? String(text.unicodeScalars.filter { $0 != "\u{0}" }) : text
  }

  /// True when the server rejected a value (data exception, class 22; or a value over a limit,
  /// class 54) or the client could not encode one: splitting the batch isolates the culprit.
  static func isUnstorable(_ error: PostgresError) -> Bool {
    if error.code == .encoding { return true }
    guard error.code == .server, let state = error.sqlState else { return false }
    return state.hasPrefix("22") || state.hasPrefix("54")
  }

  /// The permanent failure that replaces an unstorable report. Names what was rejected and why,
  /// never the value itself.
  static func message(for outcome: JobOutcome, _ error: PostgresError) -> String {
    let what =
      switch outcome {
      case .succeeded: "its result"
      case .failed, .failedPermanently, .cancelled: "its error text"
      case .handedBack: "its hand-back"
      }
    // Class 22 server messages quote the offending bytes: name the kind of problem instead.
    let reason =
      switch error.sqlState {
      case "22P05": "a character PostgreSQL cannot store"
      case "22021": "bytes that are not UTF-8"
      case "22P02": "text that is not valid JSON"
      case let state? where state.hasPrefix("54"): "a value over a PostgreSQL size limit"
      case nil: "a value the client could not encode"
      default: "a value PostgreSQL refused"
      }
    return "\(unstorablePrefix): PostgreSQL rejected \(what), \(reason) (SQLSTATE "
      + "\(error.sqlState ?? "none")). The job failed permanently; fix the kind so that it "
      + "reports storable JSON, then retry the job."
  }
}
