import Testing

@testable import TrolleyCLIKit

struct RenderTests {
  private func batch(_ id: String, done: Int64, running: Int64, available: Int64, dead: Int64)
    -> BatchSummary
  {
    BatchSummary(
      id: id, name: "photos-\(id)", createdAt: 0,
      counts: [
        .init(state: "available", count: available), .init(state: "succeeded", count: done),
        .init(state: "running", count: running), .init(state: "dead", count: dead),
      ],
      recentPerMinute: [10, 20, 30], perMinute: 30, etaSeconds: 125,
      topErrors: [.init(message: "image not found: /x.jpg\nsecond line", count: 3)])
  }

  @Test func progressBarsHaveTheirWidth() {
    for width in [1, 7, 20] {
      for fraction in [0, 0.01, 0.5, 0.999, 1, 2, -1, .nan] {
        #expect(
          DisplayWidth.of(ProgressBar.render(fraction: fraction, width: width, unicode: true))
            == width)
        #expect(
          ProgressBar.render(fraction: fraction, width: width + 2, unicode: false).count == width
            + 2)
      }
    }
    #expect(ProgressBar.render(fraction: 0.5, width: 10, unicode: false) == "[####----]")
  }

  @Test func batchDetailOnATerminalAndAsPlainLines() {
    let summary = batch("12", done: 50, running: 2, available: 47, dead: 1)
    let rich = BatchReport.detail(summary, width: 80, terminal: true)
    #expect(rich.contains("51 / 100 finished"))
    #expect(rich.contains("█"))
    #expect(rich.contains("ETA: 2m 05s"))
    #expect(rich.split(separator: "\n").allSatisfy { DisplayWidth.of(String($0)) <= 80 })
    let plain = BatchReport.detail(summary, width: 80, terminal: false)
    #expect(!plain.contains("█"))
    #expect(plain.contains("succeeded: 50\n"))
    #expect(plain.contains("finished: 51 (51.0%)\n"))
    #expect(plain.contains("error: 3 image not found: /x.jpg second line\n"))
  }

  @Test func topFillsExactly80x24AndShowsEverySection() {
    let snapshot = TopSnapshot(
      time: 1_800_000_000,
      queues: [
        .init(name: "default", paused: false, available: 120, running: 4, waiting: 2),
        .init(name: "slow", paused: true, available: 3, running: 0, waiting: 0),
      ],
      batches: (1...15).map {
        batch(String($0), done: Int64($0 * 9), running: 1, available: 80, dead: 0)
      },
      workers: [
        .init(
          host: "gpu-box-1", pid: 4242, currentJobs: 2, capacity: 4, heartbeatAgeSeconds: 1.2,
          stale: false, jobsPerMinute: 1234.4)
      ],
      failures: [.init(jobID: 77, kind: "trol.answer", ageSeconds: 30, error: "boom\nwith newline")]
    )
    let lines = TopScreen.render(snapshot, width: 80, height: 24)
    #expect(lines.count == 24)
    #expect(lines.allSatisfy { DisplayWidth.of($0) == 80 })
    let screen = lines.joined(separator: "\n")
    for needle in [
      "Queues", "default", "paused", "Batches", "photos-1", "Workers", "gpu-box-1", "4242",
      "JOBS/MIN", "1,234", "Recent failures", "boom with newline", "q quit", "more",
      "1 worker, ",
    ] {
      #expect(screen.contains(needle), "missing \(needle)")
    }
    let tiny = TopScreen.render(snapshot, width: 30, height: 5)
    #expect(tiny.count == 5)
  }

  @Test func topShowsRunningTrainingRunsAt80x24() {
    let snapshot = TopSnapshot(
      time: 1_800_000_000,
      queues: [.init(name: "default", paused: false, available: 2, running: 3, waiting: 5)],
      batches: [batch("9", done: 4, running: 3, available: 2, dead: 0)],
      workers: [
        .init(
          host: "trainer-1", pid: 99, currentJobs: 1, capacity: 1, heartbeatAgeSeconds: 0.5,
          stale: false, jobsPerMinute: 2)
      ],
      failures: [],
      trainingRuns: [
        .init(
          name: "easy-vqa-all", round: 1, rounds: 3, shardsDone: 2, shards: 4, lastLoss: 2.5,
          dead: 0),
        .init(
          name: "broken", round: 0, rounds: 2, shardsDone: 0, shards: 2, lastLoss: nil,
          dead: 2),
      ])
    let lines = TopScreen.render(snapshot, width: 80, height: 24)
    #expect(lines.count == 24)
    #expect(lines.allSatisfy { DisplayWidth.of($0) == 80 })
    let row = lines.first { $0.contains("easy-vqa-all") }
    #expect(row != nil)
    for needle in ["2/3", "2/4", "2.5000", "running"] {
      #expect(row?.contains(needle) == true, "row \(row ?? "-") lacks \(needle)")
    }
    let failed = lines.first { $0.contains("broken") }
    #expect(failed?.contains("1/2") == true && failed?.contains("failed (2 dead)") == true)
    let screen = lines.joined(separator: "\n")
    for needle in ["Training", "ROUND", "SHARDS", "LAST LOSS", "Queues", "Workers", "trainer-1"] {
      #expect(screen.contains(needle), "missing \(needle)")
    }
    // Without training runs the section is not there (the screen is as before).
    do {
      var plain = snapshot
      plain.trainingRuns = []
      #expect(!TopScreen.render(plain, width: 80, height: 24).joined().contains("LAST LOSS"))
    }
  }

  @Test func displayWidthCountsWideAndCombiningCharacters() {
    #expect(DisplayWidth.of("abc") == 3)
    #expect(DisplayWidth.of("日本") == 4)
    #expect(DisplayWidth.of("e\u{301}") == 1)
    // Emoji with default emoji presentation are two cells (Unicode's Emoji_Presentation).
    #expect(DisplayWidth.of("🚀") == 2)
    #expect(DisplayWidth.of("✅") == 2)
    #expect(DisplayWidth.of("⌛") == 2)
    #expect(DisplayWidth.of("🐈‍⬛") == 2)  // a ZWJ sequence is one emoji
    #expect(DisplayWidth.of("🇫🇷") == 2)  // a flag: two regional indicators, one cell pair
    #expect(DisplayWidth.of("👍🏽") == 2)  // with a skin-tone modifier
    // Text-default symbols: 1 cell, 2 with the emoji selector U+FE0F, 1 with U+FE0E.
    #expect(DisplayWidth.of("❤") == 1)
    #expect(DisplayWidth.of("❤\u{FE0F}") == 2)
    #expect(DisplayWidth.of("✔") == 1)
    #expect(DisplayWidth.of("⌛\u{FE0E}") == 1)
    #expect(DisplayWidth.of("done ✅ ok") == 10)
    #expect(DisplayWidth.of("１２") == 4)  // fullwidth digits
    #expect(DisplayWidth.truncate("日本語テキスト", to: 5) == "日本…")
    #expect(DisplayWidth.fit("ab", to: 4, alignRight: true) == "  ab")
  }

  @Test func formatting() {
    #expect(Formatting.count(1_234_567) == "1,234,567")
    #expect(Formatting.duration(3725) == "1h 02m")
    #expect(Formatting.duration(59) == "59s")
    #expect(Formatting.percent(done: 999, total: 1000) == "99.9%")
    #expect(Formatting.percent(done: 9999, total: 10000) == "99.9%")
    #expect(Formatting.timestamp(0) == "1970-01-01 00:00:00 UTC")
    #expect(Formatting.timestamp(1_709_251_199) == "2024-02-29 23:59:59 UTC")
  }
}
