public import Curation
public import Foundation
public import Postgres
import TrolleyBasics

/// One dataset's row.
public struct DatasetRecord: Sendable, Hashable, Codable {
  public var id: Int64
  public var name: String
  public var filters: FilterSettings
  public var dedupeHash: String
  public var dedupeDistance: Int
  /// The last dedupe grouped exact copies only (`--exact`): hash and distance were not used.
  public var dedupeExact: Bool
  public var createdAt: Date

  enum CodingKeys: String, CodingKey {
    case id, name, filters
    case dedupeHash = "dedupe_hash"
    case dedupeDistance = "dedupe_distance"
    case dedupeExact = "dedupe_exact"
    case createdAt = "created_at"
  }
}

extension DatasetStore {
  static let datasetCreateSQL = """
    INSERT INTO dataset (name, filters) VALUES ($1, $2::jsonb)
    ON CONFLICT (name) DO NOTHING
    RETURNING id, name, filters::text, dedupe_hash, dedupe_distance, dedupe_exact, created_at
    """

  static let datasetGetSQL = """
    SELECT id, name, filters::text, dedupe_hash, dedupe_distance, dedupe_exact, created_at
    FROM dataset WHERE name = $1
    """

  static let datasetGetByIDSQL = """
    SELECT id, name, filters::text, dedupe_hash, dedupe_distance, dedupe_exact, created_at
    FROM dataset WHERE id = $1
    """

  static let datasetListSQL = """
    SELECT id, name, filters::text, dedupe_hash, dedupe_distance, dedupe_exact, created_at
    FROM dataset ORDER BY name
    """

  static let datasetSetFiltersSQL = """
    UPDATE dataset SET filters = $2::jsonb WHERE id = $1
    """

  static let datasetSetDedupeSQL = """
    UPDATE dataset SET dedupe_hash = $2, dedupe_distance = $3, dedupe_exact = $4 WHERE id = $1
    """

  /// Names accepted for datasets (they appear in file names and batch names).
  public static func validateName(_ name: String) throws {
    let allowed = name.utf8.allSatisfy {
      ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46
        || $0 == 95 || $0 == 45
    }
    guard !name.isEmpty, name.utf8.count <= 100, allowed, name.first != ".", name.first != "-",
      name.first != "_"
    else {
      throw DatasetError(
        .invalidRequest,
        "dataset name '\(name)' is not valid: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
      )
    }
  }

  static func record(_ row: PostgresRow) throws -> DatasetRecord {
    let (id, name, filters, hash, distance, exact, created) = try row.decode(
      (Int64, String, String, String, Int, Bool, Date).self)
    let settings = try JSONDecoder().decode(FilterSettings.self, from: Data(filters.utf8))
    return DatasetRecord(
      id: id, name: name, filters: settings, dedupeHash: hash, dedupeDistance: distance,
      dedupeExact: exact, createdAt: created)
  }

  /// Creates a dataset with the default filters.
  /// - Throws: `DatasetError.alreadyExists` when the name is taken, `.invalidRequest` for a bad name.
  public func datasetCreate(name: String, filters: FilterSettings = .default) async throws
    -> DatasetRecord
  {
    try Self.validateName(name)
    let json = String(decoding: try JSONEncoder.sorted.encode(filters), as: UTF8.self)
    let rows = try await client.query(Self.datasetCreateSQL, [name, json])
    guard let row = rows.first else {
      throw DatasetError(
        .alreadyExists,
        "dataset \(name) already exists; see it with `trolley dataset show \(name)`")
    }
    return try Self.record(row)
  }

  /// The dataset with this name.
  /// - Throws: `DatasetError.notFound`.
  public func datasetGet(name: String, on connection: PostgresConnection) throws -> DatasetRecord {
    guard let row = try connection.query(Self.datasetGetSQL, [name]).first else {
      throw DatasetError(
        .notFound, "no dataset named \(name); create it with `trolley dataset create \(name)`")
    }
    return try Self.record(row)
  }

  public func datasetGet(name: String) async throws -> DatasetRecord {
    try await withConnection { try self.datasetGet(name: name, on: $0) }
  }

  /// The dataset with this id.
  public func datasetGet(id: Int64, on connection: PostgresConnection) throws -> DatasetRecord {
    guard let row = try connection.query(Self.datasetGetByIDSQL, [id]).first else {
      throw DatasetError(.notFound, "no dataset with id \(id) (was it deleted?)")
    }
    return try Self.record(row)
  }

  public func datasetGet(id: Int64) async throws -> DatasetRecord {
    try await withConnection { try self.datasetGet(id: id, on: $0) }
  }

  /// Every dataset, by name.
  public func datasetList() async throws -> [DatasetRecord] {
    try await client.query(Self.datasetListSQL).map { try Self.record($0) }
  }

  /// Stores new filter settings.
  public func datasetSetFilters(
    id: Int64, filters: FilterSettings, on connection: PostgresConnection
  )
    throws
  {
    let json = String(decoding: try JSONEncoder.sorted.encode(filters), as: UTF8.self)
    try connection.query(Self.datasetSetFiltersSQL, [id, json])
  }

  /// Stores the dedupe settings the last `dataset dedupe` asked for.
  public func datasetSetDedupe(
    id: Int64, hash: String, distance: Int, exactOnly: Bool, on connection: PostgresConnection
  ) throws {
    try connection.query(Self.datasetSetDedupeSQL, [id, hash, distance, exactOnly])
  }
}

extension JSONEncoder {
  /// Keys sorted, so stored JSON and exports are byte-stable.
  static var sorted: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }
}
