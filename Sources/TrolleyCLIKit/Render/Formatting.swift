/// Number, duration and time formatting shared by every human-readable output.
public enum Formatting {
  /// `1234567` as "1,234,567".
  public static func count(_ value: Int64) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, character) in digits.enumerated() {
      if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
      out.append(character)
    }
    return value < 0 ? "-" + out : out
  }

  /// A duration in seconds as "3d 4h", "2h 05m", "4m 10s" or "12s".
  public static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "-" }
    let total = Int64(seconds.rounded())
    let days = total / 86_400
    let hours = total % 86_400 / 3_600
    let minutes = total % 3_600 / 60
    let secs = total % 60
    if days > 0 { return "\(days)d \(hours)h" }
    if hours > 0 { return "\(hours)h " + (minutes < 10 ? "0" : "") + "\(minutes)m" }
    if minutes > 0 { return "\(minutes)m " + (secs < 10 ? "0" : "") + "\(secs)s" }
    return "\(secs)s"
  }

  /// A rate with one decimal below 100 ("12.5"), whole above ("1,234").
  public static func rate(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    if value < 100 {
      let tenths = Int64((value * 10).rounded())
      return "\(tenths / 10).\(tenths % 10)"
    }
    return count(Int64(value.rounded()))
  }

  /// A percentage with one decimal ("54.2%"), never showing 100% before everything is done.
  public static func percent(done: Int64, total: Int64) -> String {
    guard total > 0 else { return "0.0%" }
    var tenths = done * 1000 / total
    if done < total { tenths = min(tenths, 999) }
    return "\(tenths / 10).\(tenths % 10)%"
  }

  /// Unix seconds as "2026-11-22 17:10:05 UTC".
  public static func timestamp(_ unixSeconds: Double) -> String {
    let seconds = Int64(unixSeconds.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let inDay = seconds - days * 86_400
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(year)-\(two(month))-\(two(day)) \(two(inDay / 3600)):\(two(inDay % 3600 / 60)):"
      + "\(two(inDay % 60)) UTC"
  }

  /// A sparkline of `values` ("▁▃▅█"), one cell per value, scaled to the largest.
  public static func sparkline(_ values: [Double]) -> String {
    let levels = Array("▁▂▃▄▅▆▇█")
    let top = values.max() ?? 0
    return String(
      values.map { value -> Character in
        guard top > 0, value.isFinite, value > 0 else { return levels[0] }
        return levels[min(7, Int((value / top * 7).rounded()))]
      })
  }
}

extension Formatting {
  /// Unix seconds as ISO 8601 in UTC ("2026-11-22T17:10:05Z"), for JSON output.
  public static func isoTimestamp(_ unixSeconds: Double) -> String {
    let text = timestamp(unixSeconds)  // "2026-11-22 17:10:05 UTC"
    return String(text.prefix(10)) + "T" + String(text.dropFirst(11).prefix(8)) + "Z"
  }

  /// A finite number as JSON number text with at most three decimals ("12.5", "3").
  public static func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let thousandths = Int64((value * 1000).rounded())
    let whole = thousandths / 1000
    var fraction = String((thousandths % 1000).magnitude)
    if fraction == "0" { return (thousandths < 0 && whole == 0 ? "-" : "") + String(whole) }
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return (thousandths < 0 && whole == 0 ? "-" : "") + "\(whole).\(fraction)"
  }
}
