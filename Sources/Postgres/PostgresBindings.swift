/// The parameter values for one statement, bound to `$1`, `$2`, ... in order.
///
/// Write it as an array literal: `[jobID, "queued", Int64?.none]`. A typed `Optional` that is nil
/// binds SQL NULL of that type. Values are always sent separately from the SQL text, never spliced
/// into it.
public struct PostgresBindings: Sendable, ExpressibleByArrayLiteral {
  /// The values, in parameter order.
  public private(set) var values: [any PostgresEncodable]

  public init(arrayLiteral elements: any PostgresEncodable...) { self.values = elements }

  public init(_ values: [any PostgresEncodable] = []) { self.values = values }

  /// Appends the value for the next parameter.
  public mutating func append(_ value: some PostgresEncodable) { values.append(value) }

  /// The number of parameters.
  public var count: Int { values.count }

  /// The encoded parameters in the layout libpq wants: one buffer plus offsets into it.
  struct Encoded {
    var types: [UInt32] = []
    var buffer: [UInt8] = []
    /// Start and length of each value in `buffer`, or nil for NULL.
    var ranges: [(offset: Int, length: Int)?] = []
  }

  func encoded() throws -> Encoded {
    var encoded = Encoded()
    encoded.types.reserveCapacity(values.count)
    encoded.ranges.reserveCapacity(values.count)
    for value in values {
      encoded.types.append(type(of: value).postgresDataType.oid)
      if value.isPostgresNull {
        encoded.ranges.append(nil)
        continue
      }
      let start = encoded.buffer.count
      try value.encode(into: &encoded.buffer)
      guard encoded.buffer.count - start <= Int(Int32.max) else {
        throw PostgresError(.encoding, "A parameter is larger than 2 GiB, which libpq cannot send")
      }
      encoded.ranges.append((start, encoded.buffer.count - start))
    }
    // Keeps every value pointer non-nil, even for empty values at the end of an empty buffer.
    encoded.buffer.append(0)
    return encoded
  }
}
