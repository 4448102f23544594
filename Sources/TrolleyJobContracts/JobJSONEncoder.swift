/// Encodes payloads as the queue stores them: compact JSON, object keys in the order the type
/// encodes them (its `CodingKeys` order), absent optionals left out, strings escaped by
/// `JSONString`. Foundation's `JSONEncoder` promises no key order and escapes `/`, so two payloads
/// with the same fields could differ in their text; this one writes one text per value.
public enum JobJSONEncoder {
  /// `value` as compact JSON text.
  public static func encode(_ value: some Encodable) throws -> String {
    try tree(value).text
  }

  /// `value` as a JSON tree.
  public static func tree(_ value: some Encodable) throws -> JobJSON {
    let root = Node()
    try root.store(value, path: [])
    return root.resolved
  }

  /// One value under construction; containers fill it in place.
  fileprivate final class Node {
    var leaf: JobJSON?
    var members: [(key: String, node: Node)]?
    var items: [Node]?

    var resolved: JobJSON {
      if let members { return .object(members.map { JobJSON.Member($0.key, $0.node.resolved) }) }
      if let items { return .array(items.map(\.resolved)) }
      return leaf ?? .object([])
    }

    func store<T: Encodable>(_ value: T, path: [any CodingKey]) throws {
      if let json = value as? JobJSON {
        leaf = json
      } else {
        try value.encode(to: TreeEncoder(node: self, codingPath: path))
      }
    }
  }

  fileprivate struct TreeEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
      if node.members == nil { node.members = [] }
      return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
      if node.items == nil { node.items = [] }
      return Unkeyed(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
      Single(node: node, codingPath: codingPath)
    }
  }

  fileprivate struct IndexKey: CodingKey {
    var stringValue: String { String(intValue ?? 0) }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
  }

  fileprivate struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> Node {
      let child = Node()
      node.members?.append((key.stringValue, child))
      return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).leaf = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).leaf = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws {
      child(key).leaf = .string(value)
    }
    // Numbers go through `Single`, which formats them.
    mutating func encode(_ value: Double, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      try child(key).store(value, path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
      keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
      TreeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      TreeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
      TreeEncoder(node: node, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
      TreeEncoder(node: child(key), codingPath: codingPath + [key])
    }
  }

  fileprivate struct Unkeyed: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    var count: Int { node.items?.count ?? 0 }

    private func child() -> Node {
      let child = Node()
      node.items?.append(child)
      return child
    }

    mutating func encodeNil() throws { child().leaf = .null }
    mutating func encode(_ value: Bool) throws { child().leaf = .bool(value) }
    mutating func encode(_ value: String) throws { child().leaf = .string(value) }
    mutating func encode(_ value: Double) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Float) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Int) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Int8) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Int16) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Int32) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: Int64) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: UInt) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: UInt8) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: UInt16) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: UInt32) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode(_ value: UInt64) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
      try child().store(value, path: codingPath + [IndexKey(count)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
      -> KeyedEncodingContainer<NestedKey>
    {
      TreeEncoder(node: child(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
      TreeEncoder(node: child(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
      TreeEncoder(node: child(), codingPath: codingPath)
    }
  }

  /// Numbers are written with Swift's shortest round-tripping text; non-finite ones are refused
  /// (JSON has no spelling for them).
  fileprivate struct Single: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.leaf = .null }
    mutating func encode(_ value: Bool) throws { node.leaf = .bool(value) }
    mutating func encode(_ value: String) throws { node.leaf = .string(value) }
    mutating func encode(_ value: Double) throws {
      guard value.isFinite else {
        throw EncodingError.invalidValue(
          value, .init(codingPath: codingPath, debugDescription: "JSON has no non-finite numbers"))
      }
      node.leaf = .number(
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))
    }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: Int8) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: Int16) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: Int32) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: UInt) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: UInt8) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: UInt16) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: UInt32) throws { node.leaf = .number(String(value)) }
    mutating func encode(_ value: UInt64) throws { node.leaf = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
      try node.store(value, path: codingPath)
    }
  }
}
