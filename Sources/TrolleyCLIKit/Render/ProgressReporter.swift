import Foundation
import Synchronization

/// Progress of a long operation on standard error, the way operators' tools show it: on a
/// terminal, one line redrawn in place (at most 10 times a second) with a bar, the count, the
/// rate and the ETA; otherwise (a log file, a pipe, CI) a plain line every `plainInterval`
/// seconds, so a job's log shows that it is moving. Nothing is written for an operation that
/// ends before the first report is due.
public final class ProgressReporter: Sendable {
  private struct State {
    var done: Int64 = 0
    var lastDraw: Double = 0
    var drew = false
  }

  /// What is being counted ("export", "enqueue").
  public let label: String
  /// The unit ("jobs", "rows", "bytes").
  public let unit: String
  /// The expected total, when known (a bar and an ETA need it).
  public let total: Int64?
  private let terminal: Bool
  private let unicode: Bool
  private let plainInterval: Double
  private let start: Double
  private let state = Mutex(State())
  private let write: @Sendable (String) -> Void

  /// - Parameters:
  ///   - terminal: Draw the redrawn line (standard error is a terminal) or print plain lines.
  ///   - plainInterval: Seconds between plain lines. Default 10.
  ///   - write: Where the text goes (standard error unless a test says otherwise).
  public init(
    label: String, unit: String, total: Int64?, terminal: Bool, unicode: Bool = true,
    plainInterval: Double = 10,
    write: @escaping @Sendable (String) -> Void = { Terminal.write($0, to: 2) }
  ) {
    self.label = label
    self.unit = unit
    self.total = total.flatMap { $0 > 0 ? $0 : nil }
    self.terminal = terminal
    self.unicode = unicode
    self.plainInterval = plainInterval
    self.start = Self.now()
    self.write = write
  }

  static func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }

  /// Records that `done` units are finished; draws when a report is due. Cheap enough to call
  /// per row.
  public func update(_ done: Int64) {
    let now = Self.now()
    let line: String? = state.withLock { state in
      state.done = done
      let due = terminal ? 0.1 : plainInterval
      // The first report waits a full interval (terminal: half a second), so quick operations
      // stay silent.
      let first = terminal ? 0.5 : plainInterval
      guard now - (state.drew ? state.lastDraw : start) >= (state.drew ? due : first) else {
        return nil
      }
      state.lastDraw = now
      state.drew = true
      return render(done: done, elapsed: now - start)
    }
    if let line { write(terminal ? "\r\u{1B}[K" + line : line + "\n") }
  }

  /// Ends the report: on a terminal the line is cleared (the command prints its own summary).
  public func finish() {
    let drew = state.withLock { $0.drew }
    if terminal && drew { write("\r\u{1B}[K") }
  }

  /// "export ██████░░░░ 61% 612,000/1,000,000 jobs · 24,102/s · ETA 16s"
  public func render(done: Int64, elapsed: Double) -> String {
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    var parts: [String] = []
    if let total {
      let fraction = Double(done) / Double(total)
      var head = label
      if terminal {
        head += " " + ProgressBar.render(fraction: fraction, width: 20, unicode: unicode)
      }
      head += " " + Formatting.percent(done: done, total: total)
      parts.append(head + " \(Formatting.count(done))/\(Formatting.count(total)) \(unit)")
    } else {
      parts.append("\(label) \(Formatting.count(done)) \(unit)")
    }
    parts.append("\(Formatting.count(Int64(rate.rounded())))/s")
    if let total, rate > 0, done < total {
      parts.append("ETA " + Formatting.duration(Double(total - done) / rate))
    }
    return parts.joined(separator: " · ")
  }
}
