public import Foundation
public import TrolleyBasics

/// Parses the durations and times operators type: `7d`, `12h`, `1h30m`, `90s`, `2w`, and for
/// `--since` also ISO 8601 dates (`2026-11-22`, `2026-11-22T10:00:00Z`).
public enum DurationText {
  /// Seconds in `text`, such as "7d" or "1h30m".
  /// - Throws: `CLIError.invalidArgument` naming the option and giving examples.
  public static func seconds(_ text: String, option: String) throws(CLIError) -> Double {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    var total = 0.0
    var number = ""
    var sawUnit = false
    for character in text.trimmingSpaces().lowercased() {
      if character.isNumber || character == "." {
        number.append(character)
      } else if let unit = units[character], let value = Double(number) {
        total += value * unit
        number = ""
        sawUnit = true
      } else {
        throw invalid(text, option: option)
      }
    }
    guard number.isEmpty, sawUnit, total.isFinite else { throw invalid(text, option: option) }
    return total
  }

  /// The moment `text` names: a duration back from `now` ("2h") or an ISO 8601 date or time.
  /// - Throws: `CLIError.invalidArgument` with examples.
  public static func since(_ text: String, option: String, now: Date = Date()) throws(CLIError)
    -> Date
  {
    if let seconds = try? seconds(text, option: option) { return now.addingTimeInterval(-seconds) }
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    let dateOnly = ISO8601DateFormatter()
    dateOnly.formatOptions = [.withFullDate]
    if let date = dateOnly.date(from: text) { return date }
    throw CLIError(
      .invalidArgument,
      "\(option) \"\(text)\" is neither a duration nor a date. Examples: 30m, 2h, 7d, 2026-11-22, "
        + "2026-11-22T10:00:00Z.")
  }

  private static func invalid(_ text: String, option: String) -> CLIError {
    CLIError(
      .invalidArgument,
      "\(option) \"\(text)\" is not a duration. Use a number and a unit (s, m, h, d, w), for "
        + "example 30m, 12h, 7d or 1h30m.")
  }
}
