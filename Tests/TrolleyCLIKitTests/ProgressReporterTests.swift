import Synchronization
import Testing

@testable import TrolleyCLIKit

/// The progress line of long operations: bar, count, rate and ETA on a terminal; plain lines in
/// logs.
struct ProgressReporterTests {
  @Test func terminalLineHasBarCountRateAndETA() {
    let reporter = ProgressReporter(
      label: "export", unit: "jobs", total: 1_000_000, terminal: true, write: { _ in })
    let line = reporter.render(done: 250_000, elapsed: 10)
    #expect(line.hasPrefix("export █████░░░░░░░░░░░░░░░ 25.0% 250,000/1,000,000 jobs"), "\(line)")
    #expect(line.contains("25,000/s"), "\(line)")
    #expect(line.hasSuffix("ETA 30s"), "\(line)")
  }

  @Test func plainLinesHaveNoBarAndUnknownTotalsNoETA() {
    let known = ProgressReporter(
      label: "export", unit: "jobs", total: 200, terminal: false, write: { _ in })
    #expect(known.render(done: 50, elapsed: 5) == "export 25.0% 50/200 jobs · 10/s · ETA 15s")
    let unknown = ProgressReporter(
      label: "enqueue", unit: "rows read", total: nil, terminal: false, write: { _ in })
    #expect(unknown.render(done: 120_000, elapsed: 4) == "enqueue 120,000 rows read · 30,000/s")
  }

  /// Plain mode writes whole lines (for logs); a terminal's line is redrawn in place and cleared
  /// at the end.
  @Test func writesLinesOrRedrawsInPlace() {
    let written = Mutex<[String]>([])
    let plain = ProgressReporter(
      label: "x", unit: "rows", total: 3, terminal: false, plainInterval: 0,
      write: { text in written.withLock { $0.append(text) } })
    for done in 1...3 { plain.update(Int64(done)) }
    plain.finish()
    let lines = written.withLock { $0 }
    #expect(lines.count == 3)
    #expect(lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\u{1B}") })
    #expect(lines.last?.hasPrefix("x 100.0% 3/3 rows") == true)
  }
}
