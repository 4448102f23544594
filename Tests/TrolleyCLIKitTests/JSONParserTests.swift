import Testing
import TrolleyJobContracts

@testable import TrolleyCLIKit

struct JSONParserTests {
  @Test func parsesAndWritesBackInOrder() throws {
    let text = #"{"b":1,"a":[true,false,null,-0.5e3],"s":"x\"y\\z\n\u00e9\ud83d\ude00"}"#
    let value = try JSONParser.parse(text)
    #expect(value["s"]?.stringValue == "x\"y\\z\né😀")
    #expect(value.text == #"{"b":1,"a":[true,false,null,-0.5e3],"s":"x\"y\\z\né😀"}"#)
  }

  @Test(arguments: [
    (#"{"a":1,}"#, 8), (#"{"a" 1}"#, 6), ("[1,2", 5), (#""abc"#, 5), ("01", 2), (#"{"a":tru}"#, 6),
  ])
  func reportsTheColumnOfAnError(text: String, column: Int) {
    #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    do {
      _ = try JSONParser.parse(text)
    } catch {
      #expect(error.column == column, "\(text): \(error.reason)")
    }
  }

  @Test func refusesRawControlCharactersAndLoneSurrogates() {
    #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("\"a\u{01}b\"") }
    #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#""\ud800x""#) }
  }

  @Test func refusesDeepNesting() {
    let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
    #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
  }

  @Test func escapesControlCharactersWhenWriting() throws {
    let original = "tab\tbell\u{07}quote\"back\\slash\r\n日本"
    let text = JSONWriter.quoted(original)
    #expect(text == #""tab\tbell\u0007quote\"back\\slash\r\n日本""#)
    #expect(try JSONParser.parse(text).stringValue == original)
  }
}
