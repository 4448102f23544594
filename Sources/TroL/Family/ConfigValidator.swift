/// Checks config.json values and throws `TroLError.invalidConfig` naming the offending key.
struct ConfigValidator {
  /// The file the values came from, for messages.
  let source: String
  /// The key path prefix (`llm_config.`, `vision_config.`...).
  var prefix = ""

  func fail(_ key: String, _ what: String) -> TroLError {
    TroLError(.invalidConfig, "\(source): '\(prefix)\(key)' \(what)")
  }

  func positive(_ value: Int, _ key: String) throws {
    guard value > 0 else { throw fail(key, "must be positive, got \(value)") }
  }

  func positive(_ value: Double, _ key: String) throws {
    guard value > 0, value.isFinite else {
      throw fail(key, "must be a positive number, got \(value)")
    }
  }

  func divides(_ divisor: Int, _ divisorKey: String, _ value: Int, _ valueKey: String) throws {
    guard divisor > 0, value % divisor == 0 else {
      throw fail(divisorKey, "(\(divisor)) must divide '\(prefix)\(valueKey)' (\(value))")
    }
  }

  func nested(_ key: String) -> ConfigValidator {
    ConfigValidator(source: source, prefix: prefix + key + ".")
  }
}

/// A token id that config files write either as a number or as a list of numbers (first used).
struct ConfigTokenID: Decodable, Hashable, Sendable {
  let value: Int?

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      value = nil
    } else if let single = try? container.decode(Int.self) {
      value = single
    } else {
      value = try container.decode([Int].self).first
    }
  }
}
