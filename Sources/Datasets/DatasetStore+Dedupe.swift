public import Curation
public import Postgres
import TrolleyBasics

/// One bucket of the band index: every kept item whose hash has key `value` on the band.
public struct BandBucket: Sendable, Hashable {
  public var value: Int32
  public var ids: [Int64]
  public var hashes: [UInt64]
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

  static let dedupeClearBandsSQL = "DELETE FROM dataset_bucket WHERE dataset_id = $1"
  static let dedupeClearEdgesSQL = "DELETE FROM dataset_edge WHERE dataset_id = $1"

  // The exact step's aggregate over a quarter of the kept items (about 230 bytes per item in
  // its hash table: 57 MiB at 1M items) stays in memory instead of spilling.
  static let dedupeExactWorkMemSQL = "SET LOCAL work_mem = '96MB'"

  // The sha256 values of one range shared by more than one kept item: one pass over the items
  // with a hash table of the range's values. Ranges are disjoint, so the jobs run side by side.
  static let dedupeExactSharedSQL = """
    SELECT sha256 FROM dataset_item
    WHERE dataset_id = $1 AND status = 'ok' AND sha256 >= $2 AND sha256 < $3
    GROUP BY sha256 HAVING count(*) > 1
    """

  // The members of those groups, through the sha256 index.
  static let dedupeExactMembersSQL = """
    SELECT id, sha256, width::bigint * height FROM dataset_item
    WHERE dataset_id = $1 AND status = 'ok' AND sha256 = ANY($2::text[])
    """

  // Every member's group is its keeper; the keeper stays `ok`, the others become exact copies.
  // By primary key, one row per member.
  static let dedupeExactApplySQL = """
    UPDATE dataset_item d SET
      status = CASE WHEN u.id = u.keep THEN 'ok'::dataset_item_status
                    ELSE 'duplicate'::dataset_item_status END,
      reason = CASE WHEN u.id = u.keep THEN NULL ELSE 'exact' END,
      duplicate_of = CASE WHEN u.id = u.keep THEN NULL ELSE u.keep END,
      distance = CASE WHEN u.id = u.keep THEN NULL ELSE 0 END,
      group_id = u.keep
    FROM unnest($2::bigint[], $3::bigint[]) AS u(id, keep)
    WHERE d.id = u.id AND d.dataset_id = $1
    """

  // A pairs job's sort of its quarter of a band (about 64 bytes per kept item: 16 MiB at 1M
  // items) stays in memory instead of spilling to temporary files.
  static let dedupeWorkMemSQL = "SET LOCAL work_mem = '64MB'"

  // One band's value range of the band index is rewritten whole: a retried job finds its own
  // buckets of the first try (or of an earlier run) gone and writes the same ones again.
  static let dedupeBucketClearSQL = """
    DELETE FROM dataset_bucket WHERE dataset_id = $1 AND band = $2 AND value BETWEEN $3 AND $4
    """

  // One row per bucket: the kept items whose band key is in the range, grouped by key, ids and
  // hashes in id order. The mask drops the sign-extended bits of the int8 shift; the fold is
  // `BandLayout.key(raw:)` (the identity for bands up to 31 bits).
  static let dedupeBucketFillSQL = """
    INSERT INTO dataset_bucket (dataset_id, band, value, item_ids, hashes)
    SELECT $1, $3, v, array_agg(id ORDER BY id), array_agg(h ORDER BY id) FROM (
      SELECT id, h, ((b # (b >> 31) # (b >> 62)) & 2147483647)::int AS v FROM (
        SELECT id, h, (h >> $4) & $5 AS b FROM (
          SELECT id, \(hashColumn) AS h FROM dataset_item
          WHERE dataset_id = $1 AND status = 'ok') AS kept
        WHERE h IS NOT NULL) AS banded) AS keyed
    WHERE v BETWEEN $6 AND $7
    GROUP BY v
    """

  // Keyset pages of one band's value range, in key order.
  static let dedupeBucketPageSQL = """
    SELECT value, item_ids, hashes FROM dataset_bucket
    WHERE dataset_id = $1 AND band = $2 AND value > $3 AND value <= $4
    ORDER BY value LIMIT $5
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

  /// Marks the exact copies among kept items whose sha256 falls in range `part` of `parts` (by
  /// its first hex digit): in each group of equal sha256 the item with the most pixels, then the
  /// lowest id, stays; the others become duplicates (`exact`) of it.
  /// - Returns: how many became duplicates.
  public func dedupeExact(
    datasetID: Int64, part: Int, parts: Int, on connection: PostgresConnection
  ) throws -> Int {
    let digits = Array("0123456789abcdef")
    let lower = String(digits[part * 16 / parts])
    // "g" sorts after every hex digit in any collation, so it bounds the last range.
    let upper = part + 1 == parts ? "g" : String(digits[(part + 1) * 16 / parts])
    try connection.query(Self.dedupeExactWorkMemSQL, name: "dedupeExactWorkMem")
    let shared = try connection.query(
      Self.dedupeExactSharedSQL, [datasetID, lower, upper], name: "dedupeExactShared"
    ).map { try $0.decode(0, as: String.self) }
    guard !shared.isEmpty else { return 0 }
    var best: [String: (id: Int64, pixels: Int64)] = [:]
    var members: [(id: Int64, sha256: String)] = []
    for row in try connection.query(
      Self.dedupeExactMembersSQL, [datasetID, shared], name: "dedupeExactMembers")
    {
      let (id, sha256, pixels) = try row.decode((Int64, String, Int64?).self)
      let size = pixels ?? 0
      members.append((id, sha256))
      if let current = best[sha256],
        current.pixels > size || (current.pixels == size && current.id < id)
      {
        continue
      }
      best[sha256] = (id, size)
    }
    let keepers = members.map { best[$0.sha256]?.id ?? $0.id }
    try connection.query(
      Self.dedupeExactApplySQL, [datasetID, members.map(\.id), keepers], name: "dedupeExactApply")
    return zip(members, keepers).filter { $0.0.id != $0.1 }.count
  }

  /// Rewrites band `band`'s buckets with keys in `values` from the kept items.
  /// - Returns: buckets written.
  public func dedupeBucketFill(
    datasetID: Int64, hash: HashKind, layout: BandLayout, band: Int, values: ClosedRange<Int>,
    on connection: PostgresConnection
  ) throws -> Int {
    try connection.query(Self.dedupeWorkMemSQL, name: "dedupeWorkMem")
    try connection.query(
      Self.dedupeBucketClearSQL,
      [datasetID, Int16(band), Int32(values.lowerBound), Int32(values.upperBound)],
      name: "dedupeBucketClear")
    return try connection.query(
      Self.dedupeBucketFillSQL,
      [
        datasetID, hash.rawValue, Int16(band), Int32(layout.offsets[band]), layout.mask(band: band),
        Int32(values.lowerBound), Int32(values.upperBound),
      ], name: "dedupeBucketFill"
    ).affectedRowCount
  }

  /// Up to `limit` buckets of band `band` with keys after `after`, up to `last`, in key order.
  /// - Throws: `DatasetError.invalidRequest` when a bucket's arrays differ in length (a row not
  ///   written by `dedupeBucketFill`).
  public func dedupeBucketPage(
    datasetID: Int64, band: Int, after: Int32, last: Int, limit: Int,
    on connection: PostgresConnection
  ) throws -> [BandBucket] {
    try connection.query(
      Self.dedupeBucketPageSQL,
      [datasetID, Int16(band), after, Int32(last), Int64(limit)],
      name: "dedupeBucketPage"
    ).map {
      let (value, ids, hashes) = try $0.decode((Int32, [Int64], [Int64]).self)
      guard ids.count == hashes.count else {
        throw DatasetError(
          .invalidRequest,
          "band \(band) bucket \(value) of dataset \(datasetID) has \(ids.count) ids but "
            + "\(hashes.count) hashes; run the dedupe again to rebuild its band index")
      }
      return BandBucket(
        value: value, ids: ids, hashes: hashes.map { UInt64(bitPattern: $0) })
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
