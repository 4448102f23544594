import Foundation
import TestFixtures
import Testing

/// Issue 14, item 4: `trolley ask` run by the real binary on a pseudo-terminal (as an operator
/// sees it) shows its stages before the answer and streams the answer in place of a token
/// counter; `ask --json` stays one object whatever its output is.
@Suite struct AskTerminalTests {
  static let family = TestFixtures.trolTiny + "/internlm2"

  /// Runs `trolley arguments` with standard output and error on a new pseudo-terminal and returns
  /// everything the terminal received, and the exit status. script(1) (util-linux, essential on
  /// Debian) makes the terminal: Swift's Glibc module does not export posix_openpt/grantpt.
  static func runOnTerminal(_ arguments: [String]) throws -> (output: String, status: Int32) {
    let command = ([TrolleyBinary.path] + arguments).map {
      "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["--quiet", "--return", "--flush", "--command", command, "/dev/null"]
    var environment = ProcessInfo.processInfo.environment
    for name in ["NO_COLOR", "TROLLEY_COLOR", "TROLLEY_CONFIG"] { environment[name] = nil }
    environment["TERM"] = "xterm"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let received = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: received, as: UTF8.self), process.terminationStatus)
  }

  static func ask(_ extra: [String]) -> [String] {
    [
      "ask", "--model", family + "/model", "--image", family + "/image.png", "--question",
      "Which shapes are in the picture?", "--max-new-tokens", "24", "--threads", "1",
    ] + extra
  }

  @Test func progressComesBeforeTheAnswerAndTheAnswerReplacesTheTokenCounter() throws {
    let piped = try TrolleyBinary.run(Self.ask(["--json"]))
    try #require(piped.status == 0, "\(piped.stderr)")
    let object = try #require(try piped.json() as? [String: Any])
    let answer = try #require(object["answer"] as? String)

    let (screen, status) = try Self.runOnTerminal(Self.ask([]))
    #expect(status == 0, "\(screen)")
    // The stages, in order, each drawn over the last ("\r" + clear line).
    var position = screen.startIndex
    for stage in [
      "loading the model", "preprocessing the image", "running the vision encoder",
      "reading the prompt",
    ] {
      let found = try #require(
        screen.range(of: "\u{1B}[K" + stage, range: position..<screen.endIndex),
        "\(stage) missing or out of order in \(screen.debugDescription)")
      position = found.upperBound
    }
    // Streaming writes the answer where a non-streaming terminal run counts tokens.
    #expect(!screen.contains("generating the answer"), "\(screen.debugDescription)")
    // The answer follows the stages and is the answer --json gives (the terminal turns "\n"
    // into "\r\n"); the timings line comes last.
    let visible = answer.replacingOccurrences(of: "\n", with: "\r\n")
    let stablePart = String(visible.prefix { $0 != "\u{FFFD}" }.prefix(8))
    if !stablePart.isEmpty {
      let shown = try #require(
        screen.range(of: stablePart, range: position..<screen.endIndex),
        "the answer does not follow the stages: \(screen.debugDescription)")
      let timings = try #require(screen.range(of: "decode "), "no timings line")
      #expect(shown.upperBound <= timings.lowerBound)
    }
  }

  @Test func askJSONIsOneObjectOnATerminalToo() throws {
    let piped = try TrolleyBinary.run(Self.ask(["--json"]))
    try #require(piped.status == 0, "\(piped.stderr)")
    let pipedObject = try #require(try piped.json() as? [String: Any])
    let (screen, status) = try Self.runOnTerminal(Self.ask(["--json"]))
    #expect(status == 0, "\(screen)")
    // Everything before the object is progress drawn on standard error; the object is one line.
    let start = try #require(screen.range(of: "{\"answer\""), "\(screen.debugDescription)")
    let rest = screen[start.lowerBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(!rest.contains("\r\n"), "more than one line after the object: \(rest.debugDescription)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(rest.utf8)) as? [String: Any])
    #expect(Set(object.keys) == Set(pipedObject.keys))
    #expect(object["answer"] as? String == pipedObject["answer"] as? String)
    #expect(object["token_ids"] as? [Int] == pipedObject["token_ids"] as? [Int])
  }
}
