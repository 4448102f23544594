public import Curation
public import Postgres

/// One row of the band index as the pairs step reads it.
public struct BandRow: Sendable, Hashable {
  public var value: Int32
  public var id: Int64
  public var hash: UInt64
}

/// A verified near pair (a < b).
public struct NearEdge: Sendable, Hashable {
  public var a: Int64
  public var b: Int64
  public var distance: Int
}

/// The SQL of the batch dedupe (`DatasetDeduper` runs it, one step per `curate.dedupe` job).
/// The chosen hash column is picked by a CASE on a parameter, so every statement stays
/// parameterized.
extension DatasetStore {
  static let hashColumn = """
    CASE $2 WHEN 'ahash' THEN ahash WHEN 'dhash' THEN dhash WHEN 'whash' THEN whash ELSE phash END
    """

  // Every earlier verdict is undone first, so a run (or a retried one) starts from the same state.
  static let dedupeResetSQL = """
    UPDATE dataset_item SET status = 'ok', reason = NULL, duplicate_of = NULL, distance = NULL,
      group_id = NULL
    WHERE dataset_id = $1 AND (status = 'duplicate' OR group_id IS NOT NULL)
    """

  static let dedupeClearBandsSQL = "DELETE FROM dataset_band WHERE dataset_id = $1"
  static let dedupeClearEdgesSQL = "DELETE FROM dataset_edge WHERE dataset_id = $1"

  // Exact groups of one sha256 range (a first hex digit): same bytes; the keeper has the most
  // pixels, then the lowest id, and every member's group is the keeper. Ranges are disjoint, so
  // the 16 jobs run side by side.
  static let dedupeExactSQL = """
    WITH ranked AS (
      SELECT id,
        first_value(id) OVER (PARTITION BY sha256 ORDER BY width::bigint * height DESC, id) AS keep,
        count(*) OVER (PARTITION BY sha256) AS members
      FROM dataset_item
      WHERE dataset_id = $1 AND status = 'ok' AND sha256 >= $2 AND sha256 < $3)
    UPDATE dataset_item d SET
      status = CASE WHEN r.id = r.keep THEN 'ok'::dataset_item_status
                    ELSE 'duplicate'::dataset_item_status END,
      reason = CASE WHEN r.id = r.keep THEN NULL ELSE 'exact' END,
      duplicate_of = CASE WHEN r.id = r.keep THEN NULL ELSE r.keep END,
      distance = CASE WHEN r.id = r.keep THEN NULL ELSE 0 END,
      group_id = r.keep
    FROM ranked r WHERE d.id = r.id AND r.members > 1
    """

  static let dedupeExactCountSQL = """
    SELECT count(*)::bigint FROM dataset_item
    WHERE dataset_id = $1 AND sha256 >= $2 AND sha256 < $3 AND reason = 'exact'
    """

  // One band's quarter of the band index, written in index order (appends, not random inserts).
  // The mask drops the sign-extended bits of the int8 shift; the fold is `BandLayout.key(raw:)`
  // (the identity for bands up to 31 bits).
  static let dedupeBandFillSQL = """
    INSERT INTO dataset_band (dataset_id, band, value, item_id, hash)
    SELECT $1, $3, v, id, h FROM (
      SELECT id, h, ((b # (b >> 31) # (b >> 62)) & 2147483647)::int AS v FROM (
        SELECT id, h, (h >> $4) & $5 AS b FROM (
          SELECT id, \(hashColumn) AS h FROM dataset_item
          WHERE dataset_id = $1 AND status = 'ok') AS kept
        WHERE h IS NOT NULL) AS banded) AS keyed
    WHERE v BETWEEN $6 AND $7
    ORDER BY v, id
    ON CONFLICT DO NOTHING
    """

  // Keyset pages of one band's value range, in (value, id) order: one bucket at a time.
  static let dedupeBandPageSQL = """
    SELECT value, item_id, hash FROM dataset_band
    WHERE dataset_id = $1 AND band = $2 AND (value, item_id) > ($3, $4) AND value <= $5
    ORDER BY value, item_id LIMIT $6
    """

  static let dedupeEdgesInsertSQL = """
    INSERT INTO dataset_edge (dataset_id, a, b, distance)
    SELECT $1, e.a, e.b, e.d FROM unnest($2::bigint[], $3::bigint[], $4::smallint[]) AS e(a, b, d)
    ON CONFLICT DO NOTHING
    """

  static let dedupeEdgeChunkSQL = """
    SELECT a, b FROM dataset_edge WHERE dataset_id = $1 AND (a, b) > ($2, $3)
    ORDER BY a, b LIMIT $4
    """

  // The union-find's parent, in PostgreSQL: each item in a near group and its group's label,
  // and each label's size. Temporary, private to the groups job's transaction.
  static let unionCreateSQL = """
    CREATE TEMP TABLE dedupe_label (id bigint PRIMARY KEY, label bigint NOT NULL) ON COMMIT DROP
    """
  static let unionCreateIndexSQL = "CREATE INDEX ON dedupe_label (label)"
  static let unionCreateSizesSQL = """
    CREATE TEMP TABLE dedupe_size (label bigint PRIMARY KEY, size bigint NOT NULL) ON COMMIT DROP
    """
  static let unionLabelsSQL = """
    SELECT u.id, coalesce(l.label, u.id), coalesce(s.size, 1)
    FROM unnest($1::bigint[]) AS u(id)
    LEFT JOIN dedupe_label l ON l.id = u.id
    LEFT JOIN dedupe_size s ON s.label = coalesce(l.label, u.id)
    """
  static let unionAddSQL = """
    INSERT INTO dedupe_label (id, label) SELECT id, id FROM unnest($1::bigint[]) AS u(id)
    ON CONFLICT DO NOTHING
    """
  static let unionRelabelSQL = """
    UPDATE dedupe_label l SET label = m.winner
    FROM unnest($1::bigint[], $2::bigint[]) AS m(loser, winner) WHERE l.label = m.loser
    """
  static let unionDropSizesSQL = "DELETE FROM dedupe_size WHERE label = ANY($1::bigint[])"
  static let unionSetSizesSQL = """
    INSERT INTO dedupe_size (label, size) SELECT * FROM unnest($1::bigint[], $2::bigint[])
    ON CONFLICT (label) DO UPDATE SET size = excluded.size
    """

  // Groups by label: the representative has the most pixels, then the lowest id; every member
  // gets its distance to it. Exact copies stay `exact`; the rest become `near`.
  static let unionApplySQL = """
    WITH member AS (
      SELECT l.id, l.label, i.width::bigint * i.height AS pixels, \(hashColumn) AS h
      FROM dedupe_label l JOIN dataset_item i ON i.id = l.id AND i.dataset_id = $1),
    rep AS (
      SELECT DISTINCT ON (label) label, id AS rep, h AS rh FROM member
      ORDER BY label, pixels DESC, id),
    verdict AS (
      SELECT m.id, r.rep, bit_count((m.h # r.rh)::bit(64))::smallint AS distance
      FROM member m JOIN rep r USING (label))
    UPDATE dataset_item d SET
      status = CASE WHEN v.id = v.rep THEN 'ok'::dataset_item_status
                    ELSE 'duplicate'::dataset_item_status END,
      reason = CASE WHEN v.id = v.rep THEN NULL ELSE 'near' END,
      duplicate_of = CASE WHEN v.id = v.rep THEN NULL ELSE v.rep END,
      distance = CASE WHEN v.id = v.rep THEN NULL ELSE v.distance END,
      group_id = v.rep
    FROM verdict v WHERE d.id = v.id
    """
  static let unionCountSQL =
    "SELECT count(DISTINCT label)::bigint, count(*)::bigint FROM dedupe_label"

  // Exact copies follow their keeper into its near group.
  static let dedupeFollowSQL = """
    UPDATE dataset_item e SET duplicate_of = coalesce(k.duplicate_of, k.id), group_id = k.group_id
    FROM dataset_item k
    WHERE e.dataset_id = $1 AND e.reason = 'exact' AND k.id = e.duplicate_of
      AND k.dataset_id = $1 AND k.group_id IS NOT NULL AND k.group_id <> e.group_id
    """

  /// Undoes the last run's verdicts and empties the band index and edges.
  public func dedupeReset(datasetID: Int64, on connection: PostgresConnection) throws {
    try connection.query(Self.dedupeResetSQL, [datasetID], name: "dedupeReset")
    try connection.query(Self.dedupeClearBandsSQL, [datasetID], name: "dedupeClearBands")
    try connection.query(Self.dedupeClearEdgesSQL, [datasetID], name: "dedupeClearEdges")
  }

  /// Marks the exact copies among items whose sha256 starts with hex digit `part`.
  /// - Returns: how many became duplicates.
  public func dedupeExact(datasetID: Int64, part: Int, on connection: PostgresConnection) throws
    -> Int
  {
    let digits = Array("0123456789abcdefg")
    let lower = String(digits[part])
    // "g" sorts after every hex digit in any collation, so it bounds the last range.
    let upper = String(digits[part + 1])
    try connection.query(Self.dedupeExactSQL, [datasetID, lower, upper], name: "dedupeExact")
    return Int(
      try connection.query(
        Self.dedupeExactCountSQL, [datasetID, lower, upper], name: "dedupeExactCount"
      )
      .single().decode(0, as: Int64.self))
  }

  /// Writes band `band`'s rows with values in `values` for the kept items.
  /// - Returns: rows written.
  public func dedupeBandFill(
    datasetID: Int64, hash: HashKind, layout: BandLayout, band: Int, values: ClosedRange<Int>,
    on connection: PostgresConnection
  ) throws -> Int {
    try connection.query(
      Self.dedupeBandFillSQL,
      [
        datasetID, hash.rawValue, Int16(band), Int32(layout.offsets[band]), layout.mask(band: band),
        Int32(values.lowerBound), Int32(values.upperBound),
      ], name: "dedupeBandFill"
    ).affectedRowCount
  }

  /// Up to `limit` band rows after (value, id), up to value `last`, in order.
  public func dedupeBandPage(
    datasetID: Int64, band: Int, after: (Int32, Int64), last: Int, limit: Int,
    on connection: PostgresConnection
  ) throws -> [BandRow] {
    try connection.query(
      Self.dedupeBandPageSQL,
      [datasetID, Int16(band), after.0, after.1, Int32(last), Int64(limit)],
      name: "dedupeBandPage"
    ).map {
      let (value, id, hash) = try $0.decode((Int32, Int64, Int64).self)
      return BandRow(value: value, id: id, hash: UInt64(bitPattern: hash))
    }
  }

  /// Stores verified pairs (pairs already stored are left alone).
  public func dedupeEdgesInsert(
    datasetID: Int64, edges: [NearEdge], on connection: PostgresConnection
  ) throws {
    guard !edges.isEmpty else { return }
    try connection.query(
      Self.dedupeEdgesInsertSQL,
      [datasetID, edges.map(\.a), edges.map(\.b), edges.map { Int16($0.distance) }],
      name: "dedupeEdgesInsert")
  }

  /// Up to `limit` edges after (a, b), in order.
  public func dedupeEdgeChunk(
    datasetID: Int64, after: (Int64, Int64), limit: Int, on connection: PostgresConnection
  ) throws -> [(Int64, Int64)] {
    try connection.query(
      Self.dedupeEdgeChunkSQL, [datasetID, after.0, after.1, Int64(limit)], name: "dedupeEdgeChunk"
    ).map { try $0.decode((Int64, Int64).self) }
  }

  /// Creates the union-find's tables for this transaction.
  public func unionCreate(on connection: PostgresConnection) throws {
    try connection.query(Self.unionCreateSQL, name: "unionCreate")
    try connection.query(Self.unionCreateIndexSQL, name: "unionCreateIndex")
    try connection.query(Self.unionCreateSizesSQL, name: "unionCreateSizes")
  }

  /// The label and group size of each id (an id not yet seen is its own label, size 1).
  public func unionLabels(ids: [Int64], on connection: PostgresConnection) throws
    -> [(id: Int64, label: Int64, size: Int64)]
  {
    try connection.query(Self.unionLabelsSQL, [ids], name: "unionLabels").map {
      let (id, label, size) = try $0.decode((Int64, Int64, Int64).self)
      return (id, label, size)
    }
  }

  /// Adds new ids as their own labels, then applies one chunk's relabellings and sizes.
  public func unionApplyChunk(
    newIDs: [Int64], relabels: [GroupMerge.Relabel], sizes: [Int64: Int64],
    on connection: PostgresConnection
  ) throws {
    if !newIDs.isEmpty { try connection.query(Self.unionAddSQL, [newIDs], name: "unionAdd") }
    guard !relabels.isEmpty else { return }
    try connection.query(
      Self.unionRelabelSQL, [relabels.map(\.from), relabels.map(\.to)], name: "unionRelabel")
    try connection.query(Self.unionDropSizesSQL, [relabels.map(\.from)], name: "unionDropSizes")
    let labels = Array(sizes.keys)
    try connection.query(
      Self.unionSetSizesSQL, [labels, labels.map { sizes[$0] ?? 1 }], name: "unionSetSizes")
  }

  /// Writes every near group's verdicts and points exact copies at their group.
  /// - Returns: groups, and items that became near duplicates.
  public func unionApply(datasetID: Int64, hash: HashKind, on connection: PostgresConnection)
    throws -> (groups: Int, near: Int)
  {
    try connection.query(Self.unionApplySQL, [datasetID, hash.rawValue], name: "unionApply")
    try connection.query(Self.dedupeFollowSQL, [datasetID], name: "dedupeFollow")
    let (groups, members) = try connection.query(Self.unionCountSQL, name: "unionCount").single()
      .decode((Int64, Int64).self)
    return (Int(groups), Int(members - groups))
  }
}

/// One row of `trolley dataset duplicates`.
public struct DuplicateRow: Sendable, Hashable, Codable {
  public var group: Int64
  public var id: Int64
  public var source: String
  public var status: String
  public var reason: String?
  public var duplicateOf: Int64?
  public var distance: Int?

  enum CodingKeys: String, CodingKey {
    case group, id, source, status, reason, distance
    case duplicateOf = "duplicate_of"
  }
}

extension DatasetStore {
  static let duplicatesSQL = """
    SELECT group_id, id, source, status::text, reason, duplicate_of, distance
    FROM dataset_item WHERE dataset_id = $1 AND group_id IS NOT NULL
    ORDER BY group_id, (status = 'ok') DESC, id
    LIMIT $2
    """

  /// Group members, representative first in each group.
  public func duplicates(datasetID: Int64, limit: Int) async throws -> [DuplicateRow] {
    try await client.query(Self.duplicatesSQL, [datasetID, Int64(limit)]).map {
      let (group, id, source, status, reason, of, distance) = try $0.decode(
        (Int64, Int64, String, String, String?, Int64?, Int16?).self)
      return DuplicateRow(
        group: group, id: id, source: source, status: status, reason: reason, duplicateOf: of,
        distance: distance.map(Int.init))
    }
  }
}
