import Foundation
import JobQueue
import Postgres
import TrolleyBasics

/// A job's time limit: its payload's `timeout_seconds` when present, else the worker's
/// `jobTimeout`.
enum JobTimeout {
  /// The longest `timeout_seconds` a payload may ask for: 7 days.
  static let maximumSeconds = 604_800.0

  private static let key = Array(#""timeout_seconds""#.utf8)

  private struct Field: Decodable {
    var timeoutSeconds: Double?
    enum CodingKeys: String, CodingKey { case timeoutSeconds = "timeout_seconds" }
  }

  /// The limit for `job`.
  /// - Throws: `JobFailure.Code.invalidPayload` when `timeout_seconds` is not a number of seconds
  ///   in (0, 604800].
  static func limit(for job: ClaimedJob, default fallback: Duration?) throws -> Duration? {
    let bytes = job.payload.bytes
    // Most payloads have no such field: skip parsing them (claims run at thousands of jobs/s).
    guard contains(bytes, key) else { return fallback }
    let seconds: Double
    do {
      guard let value = try JSONDecoder().decode(Field.self, from: Data(bytes)).timeoutSeconds
      else { return fallback }
      seconds = value
    } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
      return fallback  // not an object: the kind reports its payload as invalid
    } catch {
      seconds = .nan
    }
    guard seconds > 0, seconds <= maximumSeconds else {
      throw JobFailure(
        .invalidPayload,
        "invalid payload for \(job.kind): timeout_seconds must be a number of seconds above 0 and at most \(Int(maximumSeconds))"
      )
    }
    return .milliseconds(Int64((seconds * 1000).rounded(.up)))
  }

  private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
    guard bytes.count >= needle.count else { return false }
    for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
      if bytes[start..<(start + needle.count)].elementsEqual(needle) { return true }
    }
    return false
  }
}
