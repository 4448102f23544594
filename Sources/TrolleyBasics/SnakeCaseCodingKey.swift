/// Coding keys spelled in JSON as the snake_case of their Swift names (`numKeyValueHeads` is
/// `num_key_value_heads`, `datasetID` is `dataset_id`): the one rule config.json and Hugging Face
/// configs follow, written once instead of a table of spellings per type.
///
/// A case whose JSON name does not follow the rule gives it as its raw value in snake_case
/// (`case vision = "vision_config"`), which the rule leaves as it is. Works the same whatever
/// the decoder's or encoder's key strategy.
public protocol SnakeCaseCodingKey: CodingKey, RawRepresentable<String>, CaseIterable {}

extension SnakeCaseCodingKey {
  public var stringValue: String { Self.snakeCase(rawValue) }

  public init?(stringValue: String) {
    guard let key = Self.allCases.first(where: { $0.stringValue == stringValue }) else {
      return nil
    }
    self = key
  }

  public var intValue: Int? { nil }

  public init?(intValue: Int) { nil }

  /// `name` in snake_case: an underscore before each word (an upper-case letter after a lower-case
  /// one or a digit, or the last capital of an acronym followed by a lower-case letter), all lower
  /// case. A name already in snake_case is returned unchanged.
  public static func snakeCase(_ name: String) -> String {
    let characters = Array(name)
    var result = ""
    for (i, character) in characters.enumerated() {
      if character.isUppercase, i > 0 {
        let previous = characters[i - 1]
        let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
        if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
          result.append("_")
        }
      }
      result += character.lowercased()
    }
    return result
  }
}
