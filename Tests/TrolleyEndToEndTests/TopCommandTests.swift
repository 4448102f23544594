import Foundation
import JobQueue
import TestFixtures
import Testing

/// `trolley top` in a real pseudo-terminal (tmux, 80x24): its screen, and `q` restoring the shell.
struct TopCommandTests {
  /// Runs tmux on a private server socket through the shell and returns what it printed.
  /// (system(3) rather than Process: the tmux client forks the server, and Foundation's Process
  /// waits on the inherited descriptors.)
  @discardableResult
  static func tmux(_ socket: String, _ arguments: [String], output: Bool = true) throws -> String {
    let capture =
      NSTemporaryDirectory() + "tmux-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { unlink(capture) }
    let command =
      (["tmux", "-L", socket] + arguments).map(shellQuoted).joined(separator: " ")
      + " < /dev/null > " + shellQuoted(output ? capture : "/dev/null") + " 2> /dev/null"
    _ = system(command)
    return output ? ((try? String(contentsOfFile: capture, encoding: .utf8)) ?? "") : ""
  }

  /// `text` as one single-quoted shell word.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// Polls the pane until `condition` holds (or ~20 s pass), returning the last capture.
  static func waitForScreen(_ socket: String, _ condition: (String) -> Bool) throws -> String {
    var screen = ""
    for _ in 0..<200 {
      screen = try tmux(socket, ["capture-pane", "-p", "-t", "top"])
      if condition(screen) { return screen }
      usleep(100_000)
    }
    return screen
  }

  @Test func topDrawsEverySectionIn80x24AndQuitsOnQ() async throws {
    try #require(
      system("command -v tmux > /dev/null 2>&1") == 0,
      "tmux is not installed; Ops/setup installs it (apt-get install tmux)")
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let path = try scratch.write(
        "m.csv", "image,question\nhttps://h/1.jpg,q\nhttps://h/2.jpg,q\n")
      #expect(
        try db.trolley("enqueue", "answer", "--images", path, "--batch", "top-batch").status == 0)
      _ = try await db.work { _ in .failedPermanently(error: "decoder exploded") }
      let more = try scratch.write("more.csv", "image,question\nhttps://h/3.jpg,q\n")
      #expect(
        try db.trolley("enqueue", "answer", "--images", more, "--batch", "waiting-batch").status
          == 0)

      let socket = "trolley-top-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      let marker = scratch.path + "/exited"
      let environment = db.environment.map { "export \($0.key)=\(Self.shellQuoted($0.value))" }
      let script = try scratch.write(
        "run-top.sh",
        (environment + [
          "\(Self.shellQuoted(TrolleyBinary.path)) top",
          "echo \"exit=$?\" > \(Self.shellQuoted(marker))",
          // Written aside and renamed, so the file the test waits for is never seen half-written.
          "stty -a > \(Self.shellQuoted(marker + ".stty.part"))",
          "mv \(Self.shellQuoted(marker + ".stty.part")) \(Self.shellQuoted(marker + ".stty"))",
          "sleep 30",
        ]).joined(separator: "\n") + "\n")
      try Self.tmux(
        socket, ["new-session", "-d", "-s", "top", "-x", "80", "-y", "24", "sh " + script],
        output: false)
      defer { _ = try? Self.tmux(socket, ["kill-server"], output: false) }

      let screen = try Self.waitForScreen(socket) {
        $0.contains("Recent failures") && $0.contains("decoder exploded")
      }
      let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
      #expect(lines.prefix(24).allSatisfy { $0.count <= 80 })
      for needle in [
        "trolley top", "Queues", "default", "Batches", "top-batch", "100.0%", "waiting-batch",
        "Workers", "JOBS/MIN",
        "test-host", "Recent failures", "decoder exploded", "q quit",
      ] {
        #expect(screen.contains(needle), "missing \(needle) in:\n\(screen)")
      }
      // The worker row: host, pid, jobs held/capacity, jobs per minute (2 jobs ended just now,
      // so a positive rate), heartbeat age, status; the columns before the rate have no spaces.
      let header = try #require(lines.first { $0.contains("JOBS/MIN") })
      let row = try #require(lines.first { $0.contains("test-host") })
      let headerColumns = header.split(separator: " ")
      let columns = row.split(separator: " ")
      let rateIndex = try #require(headerColumns.firstIndex(of: "JOBS/MIN"))
      try #require(rateIndex < columns.count, "\(row)")
      let rate = try #require(Double(columns[rateIndex].replacingOccurrences(of: ",", with: "")))
      #expect(rate > 0, "\(row)")

      try Self.tmux(socket, ["send-keys", "-t", "top", "q"], output: false)
      for _ in 0..<200 where !FileManager.default.fileExists(atPath: marker + ".stty") {
        usleep(100_000)
      }
      #expect(
        try scratch.read("exited").trimmingCharacters(in: .whitespacesAndNewlines) == "exit=0")
      // The terminal is back in cooked mode with echo: raw mode was undone.
      let stty = try scratch.read("exited.stty")
      let flags = Set(
        stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
      #expect(
        flags.contains("icanon") && flags.contains("echo") && flags.contains("isig"), "\(stty)")
      let after = try Self.tmux(socket, ["capture-pane", "-p", "-t", "top"])
      #expect(!after.contains("Recent failures"), "the alternate screen was left:\n\(after)")
    }
  }
}
