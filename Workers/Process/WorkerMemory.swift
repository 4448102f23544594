import Foundation

/// How much memory a worker offers the jobs it holds together (`trolley worker --memory-limit`):
/// it claims a job that declares `memory_bytes` (as training shards do) only while that fits
/// beside what it holds (docs/training-runs.md).
public enum WorkerMemory {
  /// `--memory-limit`: a byte count with an optional K, M, G or T suffix (powers of 1024), or
  /// `none` for no limit.
  /// - Returns: the bytes, or nil for `none`.
  /// - Throws: a message naming the text and the accepted forms.
  public static func parse(_ text: String) throws -> Int64? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
    if trimmed == "NONE" { return nil }
    let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = Substring(trimmed)
    var scale: Int64 = 1
    if let last = digits.last, let unit = units[last] {
      scale = unit
      digits = digits.dropLast()
    } else if digits.hasSuffix("B"), let unit = units[digits.dropLast().last ?? " "] {
      scale = unit
      digits = digits.dropLast(2)
    }
    guard let value = Double(digits), value.isFinite, value > 0,
      value * Double(scale) < Double(Int64.max)
    else {
      throw WorkerMemoryError(
        "--memory-limit must be a positive size such as 512M, 8G or 1073741824 (bytes), or none; got \(text)"
      )
    }
    return Int64(value * Double(scale))
  }

  /// The limit a worker without `--memory-limit` assumes: its cgroup's `memory.max` (v2) or
  /// `memory.limit_in_bytes` (v1) when set, and MemAvailable from /proc/meminfo, whichever is
  /// smaller; nil when neither can be read.
  public static func detected() -> Int64? {
    var limits: [Int64] = []
    for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
      if let text = try? String(contentsOfFile: path, encoding: .utf8),
        let value = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)),
        value > 0, value < (1 << 60)
      {
        limits.append(value)
      }
    }
    if let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") })
    {
      let fields = line.split(separator: " ")
      if fields.count >= 2, let kib = Int64(fields[1]) { limits.append(kib * 1024) }
    }
    return limits.min()
  }
}

/// A `--memory-limit` that cannot be read.
public struct WorkerMemoryError: Error, CustomStringConvertible, Sendable {
  public let description: String
  init(_ description: String) { self.description = description }
}
