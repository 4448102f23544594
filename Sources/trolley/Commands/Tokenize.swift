import ArgumentParser
import TroL
import TrolleyCLIKit

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

  @Option(
    name: .long, help: "The model folder (tokenizer.model or tokenizer.json and their configs).")
  var model: String

  @Flag(name: .long, help: "Decode ids to text instead of encoding text.")
  var decode = false

  @Flag(
    name: .long,
    help: "Add the special tokens the reference adds with add_special_tokens=True (<s>).")
  var addSpecialTokens = false

  @Flag(name: .long, help: "With --decode, drop special tokens (skip_special_tokens=True).")
  var skipSpecialTokens = false

  @Flag(
    name: .long,
    help: "Print the token strings next to the ids ({\"ids\": [...], \"tokens\": [...]}).")
  var tokens = false

  @Argument(help: "The text to encode, or the ids to decode.")
  var text: String

  func run() throws {
    let tokenizer = try TokenizerLoader.load(modelDirectory: model)
    if decode {
      let ids = try Self.parseIDs(text)
      print(JSONWriter.quoted(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)))
      return
    }
    let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
    let idArray = JSONValue.array(ids.map { .number(String($0)) })
    var out = ""
    if tokens {
      let names = ids.map { JSONValue.string(tokenizer.token(forID: $0) ?? "") }
      JSONWriter.append(.object([.init("ids", idArray), .init("tokens", .array(names))]), to: &out)
    } else {
      JSONWriter.append(idArray, to: &out)
    }
    print(out)
  }

  /// "[1, 2, 3]" or "1,2,3".
  static func parseIDs(_ text: String) throws -> [Int] {
    let trimmed = text.trimmingPrefix(while: \.isWhitespace)
    if trimmed.hasPrefix("[") {
      let value: JSONValue
      do {
        value = try JSONParser.parse(text)
      } catch {
        throw CLIError(
          .invalidArgument,
          "--decode expects a JSON array of ids; column \(error.column): \(error.reason)")
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
