public import Curation
import Foundation
public import Postgres
public import TrolleyJobContracts

/// The ids the last `itemsAdd` inserted (nil bounds when nothing was new).
public struct ItemsAdded: Sendable, Hashable {
  public var added: Int
  public var firstID: Int64?
  public var lastID: Int64?
}

/// One question about an item and its answer: imported from a manifest (`question`/`answer`
/// columns, several rows per image), or asked by `trolley dataset caption --questions` (the
/// answer then arrives from a trol.answer job).
public struct ItemAnswer: Sendable, Hashable, Codable {
  public var question: String
  public var answer: String?

  public init(question: String, answer: String?) {
    self.question = question
    self.answer = answer
  }
}

/// One source `dataset ingest` adds, with what its manifest rows said about it.
public struct IngestSource: Sendable, Equatable {
  /// An absolute path or a URL.
  public var source: String
  /// The manifest's other columns (a JSON object), if any.
  public var metadata: JobJSON?
  /// Questions and answers, in manifest order.
  public var answers: [ItemAnswer]
  /// A caption the manifest already has.
  public var caption: String?

  public init(
    source: String, metadata: JobJSON? = nil, answers: [ItemAnswer] = [], caption: String? = nil
  ) {
    self.source = source
    self.metadata = metadata
    self.answers = answers
    self.caption = caption
  }
}

/// An item's id and where its bytes are read from: a pending item a curate.ingest job reads, or a
/// kept item a caption or answer job is planned for.
public struct ItemSource: Sendable, Hashable {
  public var id: Int64
  public var source: String

  /// The rows of a statement that selects `id, source`.
  static func decode(_ rows: PostgresRows) throws -> [ItemSource] {
    try rows.map {
      let (id, source) = try $0.decode((Int64, String).self)
      return ItemSource(id: id, source: source)
    }
  }
}

/// What a curate.ingest job found for one item.
public struct IngestOutcome: Sendable, Hashable {
  public var id: Int64
  /// `ok`, `bad` or `filtered`.
  public var status: String
  public var reason: String?
  public var fingerprint: ImageFingerprint?

  public init(id: Int64, status: String, reason: String?, fingerprint: ImageFingerprint?) {
    self.id = id
    self.status = status
    self.reason = reason
    self.fingerprint = fingerprint
  }
}

extension DatasetStore {
  static let itemsStageSQL = """
    CREATE TEMP TABLE incoming_source (
      source text NOT NULL, metadata jsonb, answers jsonb, caption text) ON COMMIT DROP
    """

  static let itemsCopySQL = "COPY incoming_source (source, metadata, answers, caption) FROM STDIN"

  // Sorted, so ids follow the sources' order; sources already in the dataset add nothing (not
  // even new questions: re-ingesting is a no-op).
  static let itemsInsertSQL = """
    WITH inserted AS (
      INSERT INTO dataset_item (dataset_id, source, metadata, answers, caption)
      SELECT DISTINCT ON (source) $1::bigint, source, coalesce(metadata, '{}'), answers, caption
      FROM incoming_source ORDER BY source
      ON CONFLICT (dataset_id, source) DO NOTHING
      RETURNING id)
    SELECT count(*)::bigint, min(id), max(id) FROM inserted
    """

  static let itemsPendingSQL = """
    SELECT id, source FROM dataset_item
    WHERE dataset_id = $1 AND id BETWEEN $2 AND $3 AND status = 'pending'
    ORDER BY id
    """

  // Only pending rows change: a retried job never overwrites what another attempt recorded.
  static let itemsRecordSQL = """
    UPDATE dataset_item AS d SET
      status = u.status::dataset_item_status, reason = u.reason, sha256 = u.sha256,
      width = u.width, height = u.height, format = u.format, bytes = u.bytes,
      ahash = u.ahash, phash = u.phash, dhash = u.dhash, whash = u.whash
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[],
                $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
                $13::bigint[])
      AS u(id, status, reason, sha256, width, height, format, bytes, ahash, phash, dhash, whash)
    WHERE d.id = u.id AND d.dataset_id = $1 AND d.status = 'pending'
    """

  /// Copies `sources` (sorted, duplicates dropped) in as pending items, in one transaction.
  public func itemsAdd(datasetID: Int64, sources: [String], on connection: PostgresConnection)
    throws -> ItemsAdded
  {
    try itemsAdd(
      datasetID: datasetID, sources: sources.map { IngestSource(source: $0) }, on: connection)
  }

  /// Copies `sources` (sorted; the first of several entries for one source wins) in as pending
  /// items with their manifest metadata, questions and answers, and caption.
  public func itemsAdd(
    datasetID: Int64, sources: [IngestSource], on connection: PostgresConnection
  ) throws -> ItemsAdded {
    let sorted = sources.sorted { $0.source < $1.source }
    let encoder = JSONEncoder.sorted
    try connection.query(Self.itemsStageSQL, name: "itemsStage")
    try connection.copyFrom(Self.itemsCopySQL, name: "itemsCopy") { writer in
      for item in sorted {
        let metadata = try item.metadata.map {
          String(decoding: try encoder.encode($0), as: UTF8.self)
        }
        let answers =
          item.answers.isEmpty
          ? nil : String(decoding: try encoder.encode(item.answers), as: UTF8.self)
        try writer.writeRow([item.source, metadata, answers, item.caption])
      }
    }
    let row = try connection.query(Self.itemsInsertSQL, [datasetID], name: "itemsInsert").single()
    let (count, first, last) = try row.decode((Int64, Int64?, Int64?).self)
    return ItemsAdded(added: Int(count), firstID: first, lastID: last)
  }

  /// The still-pending items of one ingest chunk, by id.
  public func itemsPending(datasetID: Int64, firstID: Int64, lastID: Int64) async throws
    -> [ItemSource]
  {
    try ItemSource.decode(
      try await client.query(Self.itemsPendingSQL, [datasetID, firstID, lastID]))
  }

  /// Records a chunk's outcomes in one statement.
  /// - Returns: the rows changed (items no longer pending are left alone).
  @discardableResult
  public func itemsRecord(datasetID: Int64, outcomes: [IngestOutcome]) async throws -> Int {
    let f = outcomes.map(\.fingerprint)
    let bindings: PostgresBindings = [
      datasetID,
      outcomes.map(\.id), outcomes.map(\.status), outcomes.map(\.reason),
      f.map { $0?.sha256 }, f.map { $0.map { Int32($0.width) } },
      f.map { $0.map { Int32($0.height) } }, f.map { $0?.format },
      f.map { $0.map { Int64($0.bytes) } },
      f.map { $0.map { Int64(bitPattern: $0.hashes.ahash) } },
      f.map { $0.map { Int64(bitPattern: $0.hashes.phash) } },
      f.map { $0.map { Int64(bitPattern: $0.hashes.dhash) } },
      f.map { $0.map { Int64(bitPattern: $0.hashes.whash) } },
    ]
    return try await client.query(Self.itemsRecordSQL, bindings).affectedRowCount
  }
}
