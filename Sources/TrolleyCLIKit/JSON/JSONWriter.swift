import TrolleyBasics
public import TrolleyJobContracts

/// Writes JSON text: strings escaped per RFC 8259, non-ASCII characters kept as UTF-8.
public enum JSONWriter {
  /// Appends `value` as compact JSON to `out`.
  public static func append(_ value: JSONValue, to out: inout String) {
    value.write(to: &out)
  }

  /// Appends `text` as a quoted, escaped JSON string to `out`.
  public static func appendString(_ text: String, to out: inout String) {
    JSONString.append(text, to: &out)
  }

  /// A quoted, escaped JSON string.
  public static func quoted(_ text: String) -> String { JSONString.quoted(text) }
}
