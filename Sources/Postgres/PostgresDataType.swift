/// A PostgreSQL type, identified by its OID (`pg_type.oid`).
///
/// The built-in types Trolley uses have named constants. Types created by a migration (enums,
/// domains) have OIDs that differ between databases; they decode as `String` (an enum's binary
/// form is its label) and are bound as text with a cast in the SQL (`$1::job_state`).
public struct PostgresDataType: Hashable, Sendable, CustomStringConvertible {
  /// The type's OID.
  public let oid: UInt32

  public init(oid: UInt32) { self.oid = oid }

  /// Let the server infer the type from the statement (a NULL, or text it converts).
  public static let unspecified = PostgresDataType(oid: 0)
  public static let bool = PostgresDataType(oid: 16)
  public static let bytea = PostgresDataType(oid: 17)
  public static let char = PostgresDataType(oid: 18)
  public static let name = PostgresDataType(oid: 19)
  public static let int8 = PostgresDataType(oid: 20)
  public static let int2 = PostgresDataType(oid: 21)
  public static let int4 = PostgresDataType(oid: 23)
  public static let text = PostgresDataType(oid: 25)
  public static let oidType = PostgresDataType(oid: 26)
  public static let json = PostgresDataType(oid: 114)
  public static let float4 = PostgresDataType(oid: 700)
  public static let float8 = PostgresDataType(oid: 701)
  public static let unknown = PostgresDataType(oid: 705)
  public static let bpchar = PostgresDataType(oid: 1042)
  public static let varchar = PostgresDataType(oid: 1043)
  public static let date = PostgresDataType(oid: 1082)
  public static let timestamp = PostgresDataType(oid: 1114)
  public static let timestamptz = PostgresDataType(oid: 1184)
  public static let interval = PostgresDataType(oid: 1186)
  public static let numeric = PostgresDataType(oid: 1700)
  public static let uuid = PostgresDataType(oid: 2950)
  public static let jsonb = PostgresDataType(oid: 3802)

  public static let boolArray = PostgresDataType(oid: 1000)
  public static let byteaArray = PostgresDataType(oid: 1001)
  public static let int2Array = PostgresDataType(oid: 1005)
  public static let int4Array = PostgresDataType(oid: 1007)
  public static let textArray = PostgresDataType(oid: 1009)
  public static let varcharArray = PostgresDataType(oid: 1015)
  public static let int8Array = PostgresDataType(oid: 1016)
  public static let float4Array = PostgresDataType(oid: 1021)
  public static let float8Array = PostgresDataType(oid: 1022)
  public static let timestamptzArray = PostgresDataType(oid: 1185)
  public static let uuidArray = PostgresDataType(oid: 2951)
  public static let jsonbArray = PostgresDataType(oid: 3807)

  private static let names: [UInt32: String] = [
    0: "unspecified", 16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2",
    23: "int4", 25: "text", 26: "oid", 114: "json", 700: "float4", 701: "float8", 705: "unknown",
    1042: "bpchar", 1043: "varchar", 1082: "date", 1114: "timestamp", 1184: "timestamptz",
    1186: "interval", 1700: "numeric", 2950: "uuid", 3802: "jsonb", 1000: "bool[]",
    1001: "bytea[]", 1005: "int2[]", 1007: "int4[]", 1009: "text[]", 1015: "varchar[]",
    1016: "int8[]", 1021: "float4[]", 1022: "float8[]", 1185: "timestamptz[]", 2951: "uuid[]",
    3807: "jsonb[]",
  ]

  /// The type's name for built-in types, else `oid NNN`.
  public var description: String { Self.names[oid] ?? "oid \(oid)" }

  /// Types whose binary form is not text, so they must not silently decode as `String`.
  var isNonTextual: Bool {
    switch self {
    case .bool, .bytea, .int8, .int2, .int4, .oidType, .float4, .float8, .date, .timestamp,
      .timestamptz, .interval:
      return true
    default:
      // Built-in array types are all below 10000 and named above; user enums are not.
      return Self.names[oid]?.hasSuffix("[]") ?? false
    }
  }
}
