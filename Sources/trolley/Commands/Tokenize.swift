import ArgumentParser
import Foundation
import TroL
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley tokenize`: a model's tokenizer from the terminal, for checking prompts and ids.
struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Print the token ids of a text (or the text of ids) with a model's tokenizer, as JSON.",
    discussion: """
      Encodes like TroL encodes its prompts (no special tokens added) unless --add-special-tokens \
      is given. With --decode, TEXT is a JSON array of ids or comma-separated ids, and the output \
      is a JSON string (special tokens kept unless --skip-special-tokens).

      Examples:
        trolley tokenize --model ~/models/TroL-1.8B 'What is in the image?'
        trolley tokenize --model ~/models/TroL-3.8B --decode '[1, 32010, 15043]'
      """)

  @Option(help: "The model folder (tokenizer.model or tokenizer.json and their configs).")
  var model: String

  @Flag(help: "Decode ids to text instead of encoding text.")
  var decode = false

  @Flag(
    help: "Add the special tokens the reference adds with add_special_tokens=True (<s>).")
  var addSpecialTokens = false

  @Flag(help: "With --decode, drop special tokens (skip_special_tokens=True).")
  var skipSpecialTokens = false

  @Flag(
    help: "Print the token strings next to the ids ({\"ids\": [...], \"tokens\": [...]}).")
  var tokens = false

  @Option(
    help: ArgumentHelp(
      "Read one JSON value per line from FILE ('-' for standard input): a string is encoded, an array of ids is decoded; prints one JSON line per input line.",
      valueName: "FILE"))
  var jsonl: String?

  @Option(
    help: "Encode (or decode) TEXT this many times and report the time per call on standard error.")
  var repeatCount: Int?

  @Argument(help: "The text to encode, or the ids to decode.")
  var text: String?

  func validate() throws {
    if jsonl == nil && text == nil { throw ValidationError("Give TEXT or --jsonl FILE.") }
    if jsonl != nil && text != nil {
      throw ValidationError("Give either TEXT or --jsonl FILE, not both.")
    }
    if let repeatCount, repeatCount < 1 {
      throw ValidationError("--repeat-count must be at least 1.")
    }
  }

  func run() throws {
    let tokenizer = try TokenizerLoader.load(modelDirectory: model)
    if let jsonl {
      try runLines(jsonl, tokenizer)
      return
    }
    guard let text else { return }
    if decode {
      let ids = try Self.parseIDs(text)
      try timeIfAsked { _ = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens) }
      print(JSONWriter.quoted(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)))
      return
    }
    try timeIfAsked { _ = tokenizer.encode(text, addSpecialTokens: addSpecialTokens) }
    print(encoded(text, tokenizer))
  }

  private func encoded(_ text: String, _ tokenizer: any TextTokenizer) -> String {
    let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
    let idArray = JSONValue.array(ids.map { .number(String($0)) })
    var out = ""
    if tokens {
      let names = ids.map { JSONValue.string(tokenizer.token(forID: $0) ?? "") }
      JSONWriter.append(.object([.init("ids", idArray), .init("tokens", .array(names))]), to: &out)
    } else {
      JSONWriter.append(idArray, to: &out)
    }
    return out
  }

  private func runLines(_ path: String, _ tokenizer: any TextTokenizer) throws {
    let lines = try TokenizeInput.lines(path)
    for (number, line) in lines.enumerated() where !line.isEmpty {
      let value = try Self.parseJSON(line) {
        "\(path):\(number + 1): not JSON (column \($0.column): \($0.reason))"
      }
      switch value {
      case .string(let s):
        print(encoded(s, tokenizer))
      case .array:
        let ids = try Self.parseIDs(line)
        print(JSONWriter.quoted(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)))
      default:
        throw CLIError(
          .invalidArgument,
          "\(path):\(number + 1): expected a string or an array of ids, got \(value.typeName)")
      }
    }
  }

  /// CPU time of this thread, so that other processes on a busy machine do not count.
  private func timeIfAsked(_ body: () -> Void) throws {
    guard let repeatCount else { return }
    body()  // warm-up
    func cpuMicroseconds() -> Double { CPUClock.thread() * 1e6 }
    let start = cpuMicroseconds()
    for _ in 0..<repeatCount { body() }
    let perCall = (cpuMicroseconds() - start) / Double(repeatCount)
    var line = ""
    JSONWriter.append(
      .object([
        .init("calls", .number(String(repeatCount))),
        .init("cpu_microseconds_per_call", .number(format3(perCall))),
      ]), to: &line)
    printError(line)
  }

  private func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return String(scaled)
  }

  /// `text` as JSON, or the invalid-argument error `message` writes from where and why it is not.
  private static func parseJSON(_ text: String, _ message: (JSONParser.Failure) -> String) throws
    -> JSONValue
  {
    do {
      return try JSONParser.parse(text)
    } catch {
      throw CLIError(.invalidArgument, message(error))
    }
  }

  /// "[1, 2, 3]" or "1,2,3".
  static func parseIDs(_ text: String) throws -> [Int] {
    let trimmed = text.trimmingPrefix(while: \.isWhitespace)
    if trimmed.hasPrefix("[") {
      let value = try parseJSON(text) {
        "--decode expects a JSON array of ids; column \($0.column): \($0.reason)"
      }
      guard case .array(let items) = value else {
        throw CLIError(.invalidArgument, "--decode expects a JSON array of ids")
      }
      return try items.map { item in
        guard case .number(let n) = item, let id = Int(n) else {
          throw CLIError(.invalidArgument, "--decode expects integer ids, got \(item.typeName)")
        }
        return id
      }
    }
    return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
      let s = part.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
      guard let id = Int(String(s)) else {
        throw CLIError(
          .invalidArgument,
          "--decode expects ids like 1,2,3 or [1,2,3]; \"\(part)\" is not an integer")
      }
      return id
    }
  }
}

/// Input lines of `--jsonl`: a file, or standard input for "-".
private enum TokenizeInput {
  static func lines(_ path: String) throws -> [String] {
    if path == "-" {
      var lines: [String] = []
      while let line = readLine(strippingNewline: true) { lines.append(line) }
      return lines
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError(.notFound, "cannot read \(path); check the path given to --jsonl")
    }
    // Split bytes, not Characters: "\r\n" is one Character in Swift.
    return [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
      String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
    }
  }
}
