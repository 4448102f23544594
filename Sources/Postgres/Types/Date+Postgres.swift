public import Foundation

/// Dates bind as timestamptz (microseconds since 2000-01-01 UTC) and decode from timestamptz,
/// timestamp (read as UTC) and date. PostgreSQL's `infinity` and `-infinity` map to
/// `Date.distantFuture` and `Date.distantPast`.
extension Date: PostgresArrayElement {
  /// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
  static let postgresEpochOffset: TimeInterval = 946_684_800

  public static var postgresDataType: PostgresDataType { .timestamptz }
  public static var postgresArrayDataType: PostgresDataType { .timestamptzArray }

  public func encode(into buffer: inout [UInt8]) throws {
    if self == .distantFuture {
      buffer.appendBigEndian(Int64.max)
      return
    }
    if self == .distantPast {
      buffer.appendBigEndian(Int64.min)
      return
    }
    let microseconds = ((timeIntervalSince1970 - Self.postgresEpochOffset) * 1_000_000).rounded()
    guard let value = Int64(exactly: microseconds) else {
      throw PostgresError(.encoding, "A date parameter is outside timestamptz's range")
    }
    buffer.appendBigEndian(value)
  }

  public static func decode(from value: PostgresValue) throws -> Date {
    let bytes = try value.nonNullBytes(for: Date.self)
    var reader = BinaryReader(bytes)
    switch value.dataType {
    case .timestamptz, .timestamp:
      guard let microseconds = reader.read(Int64.self), reader.remaining == 0 else {
        throw value.malformed(Date.self, "wrong length \(bytes.count)")
      }
      if microseconds == .max { return .distantFuture }
      if microseconds == .min { return .distantPast }
      // Split to keep microsecond precision: a Double of microseconds since 1970 loses it.
      let seconds = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
      return Date(
        timeIntervalSince1970: postgresEpochOffset + TimeInterval(seconds.quotient)
          + TimeInterval(seconds.remainder) / 1_000_000)
    case .date:
      guard let days = reader.read(Int32.self), reader.remaining == 0 else {
        throw value.malformed(Date.self, "wrong length \(bytes.count)")
      }
      if days == .max { return .distantFuture }
      if days == .min { return .distantPast }
      return Date(timeIntervalSince1970: postgresEpochOffset + TimeInterval(days) * 86_400)
    default:
      throw value.typeMismatch(Date.self)
    }
  }
}
