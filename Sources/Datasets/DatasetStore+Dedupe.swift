public import Curation
public import Postgres

/// One member of a near-duplicate group, as the group step reads it.
public struct GroupMember: Sendable, Hashable {
  public var id: Int64
  public var pixels: Int64
  public var hash: UInt64
}

/// A near duplicate's verdict.
public struct NearVerdict: Sendable, Hashable {
  public var id: Int64
  public var representative: Int64
  public var distance: Int
}

extension DatasetStore {
  // Every earlier verdict is undone first, so a run (or a retried one) starts from the same state.
  static let dedupeResetSQL = """
    UPDATE dataset_item SET status = 'ok', reason = NULL, duplicate_of = NULL, distance = NULL,
      group_id = NULL
    WHERE dataset_id = $1 AND (status = 'duplicate' OR group_id IS NOT NULL)
    """

  static let dedupeClearBandsSQL = "DELETE FROM dataset_band WHERE dataset_id = $1"
  static let dedupeClearEdgesSQL = "DELETE FROM dataset_edge WHERE dataset_id = $1"

  // Exact groups: same bytes; the keeper has the most pixels, then the lowest id.
  static let dedupeExactSQL = """
    WITH ranked AS (
      SELECT id, first_value(id) OVER (
        PARTITION BY sha256 ORDER BY width::bigint * height DESC, id) AS keep
      FROM dataset_item WHERE dataset_id = $1 AND status = 'ok')
    UPDATE dataset_item d SET status = 'duplicate', reason = 'exact', duplicate_of = r.keep,
      distance = 0, group_id = r.keep
    FROM ranked r WHERE d.id = r.id AND r.id <> r.keep
    """

  static let dedupeExactKeepersSQL = """
    UPDATE dataset_item k SET group_id = k.id
    WHERE k.dataset_id = $1 AND k.status = 'ok' AND EXISTS (
      SELECT 1 FROM dataset_item e WHERE e.dataset_id = $1 AND e.duplicate_of = k.id)
    """

  // The kept items' band values of the chosen hash; the mask drops the sign-extended bits.
  static let dedupeBandsSQL = """
    INSERT INTO dataset_band (dataset_id, band, value, item_id, hash)
    SELECT $1, b.band, ((h.hash >> b.off) & b.mask)::int, h.id, h.hash
    FROM (SELECT id, CASE $2 WHEN 'ahash' THEN ahash WHEN 'dhash' THEN dhash
                             WHEN 'whash' THEN whash ELSE phash END AS hash
          FROM dataset_item WHERE dataset_id = $1 AND status = 'ok') h,
         unnest($3::int[], $4::int[], $5::bigint[]) AS b(band, off, mask)
    WHERE h.hash IS NOT NULL
    """

  // Pairs sharing a band value, verified on all 64 bits; a pair found in several bands is kept
  // once (the first band to find it).
  static let dedupeEdgesSQL = """
    INSERT INTO dataset_edge (dataset_id, a, b, distance)
    SELECT $1, x.item_id, y.item_id, bit_count((x.hash # y.hash)::bit(64))
    FROM dataset_band x JOIN dataset_band y
      ON y.dataset_id = x.dataset_id AND y.band = x.band AND y.value = x.value
     AND y.item_id > x.item_id
    WHERE x.dataset_id = $1 AND x.band = $2
      AND bit_count((x.hash # y.hash)::bit(64)) <= $3
    ON CONFLICT DO NOTHING
    """

  static let dedupeEdgeChunkSQL = """
    SELECT a, b FROM dataset_edge WHERE dataset_id = $1 AND (a, b) > ($2, $3)
    ORDER BY a, b LIMIT $4
    """

  static let dedupeMembersSQL = """
    SELECT id, width::bigint * height,
      CASE $2 WHEN 'ahash' THEN ahash WHEN 'dhash' THEN dhash WHEN 'whash' THEN whash
              ELSE phash END
    FROM dataset_item WHERE dataset_id = $1 AND id = ANY($3::bigint[])
    """

  static let dedupeApplyNearSQL = """
    UPDATE dataset_item d SET
      status = CASE WHEN u.id = u.rep THEN 'ok'::dataset_item_status
                    ELSE 'duplicate'::dataset_item_status END,
      reason = CASE WHEN u.id = u.rep THEN NULL ELSE 'near' END,
      duplicate_of = CASE WHEN u.id = u.rep THEN NULL ELSE u.rep END,
      distance = CASE WHEN u.id = u.rep THEN NULL ELSE u.distance END,
      group_id = u.rep
    FROM unnest($2::bigint[], $3::bigint[], $4::int[]) AS u(id, rep, distance)
    WHERE d.dataset_id = $1 AND d.id = u.id
    """

  // Exact copies follow their keeper into its near group.
  static let dedupeFollowSQL = """
    UPDATE dataset_item e SET duplicate_of = coalesce(k.duplicate_of, k.id), group_id = k.group_id
    FROM dataset_item k
    WHERE e.dataset_id = $1 AND e.reason = 'exact' AND k.id = e.duplicate_of
      AND k.dataset_id = $1 AND k.group_id IS NOT NULL AND k.group_id <> e.group_id
    """

  public func dedupeReset(datasetID: Int64, on connection: PostgresConnection) throws {
    try connection.query(Self.dedupeResetSQL, [datasetID], name: "dedupeReset")
    try connection.query(Self.dedupeClearBandsSQL, [datasetID], name: "dedupeClearBands")
    try connection.query(Self.dedupeClearEdgesSQL, [datasetID], name: "dedupeClearEdges")
  }

  /// Marks exact copies. - Returns: how many became duplicates.
  public func dedupeExact(datasetID: Int64, on connection: PostgresConnection) throws -> Int {
    let count = try connection.query(Self.dedupeExactSQL, [datasetID], name: "dedupeExact")
      .affectedRowCount
    try connection.query(Self.dedupeExactKeepersSQL, [datasetID], name: "dedupeExactKeepers")
    return count
  }

  /// Fills the band table for `hash` with `layout`. - Returns: rows written.
  public func dedupeBands(
    datasetID: Int64, hash: HashKind, layout: BandLayout, on connection: PostgresConnection
  ) throws -> Int {
    let bands = (0..<layout.count).map { Int32($0) }
    let offsets = layout.offsets.map { Int32($0) }
    let masks = (0..<layout.count).map { layout.mask(band: $0) }
    return try connection.query(
      Self.dedupeBandsSQL, [datasetID, hash.rawValue, bands, offsets, masks], name: "dedupeBands"
    ).affectedRowCount
  }

  /// Verified pairs of one band. - Returns: new edges.
  public func dedupeEdges(
    datasetID: Int64, band: Int, distance: Int, on connection: PostgresConnection
  ) throws -> Int {
    try connection.query(
      Self.dedupeEdgesSQL, [datasetID, Int32(band), Int32(distance)], name: "dedupeEdges"
    ).affectedRowCount
  }

  /// Up to `limit` edges after (a, b), in order.
  public func dedupeEdgeChunk(
    datasetID: Int64, after: (Int64, Int64), limit: Int, on connection: PostgresConnection
  ) throws -> [(Int64, Int64)] {
    try connection.query(
      Self.dedupeEdgeChunkSQL, [datasetID, after.0, after.1, Int64(limit)], name: "dedupeEdgeChunk"
    ).map { try $0.decode((Int64, Int64).self) }
  }

  /// Pixels and hash of the given items.
  public func dedupeMembers(
    datasetID: Int64, hash: HashKind, ids: [Int64], on connection: PostgresConnection
  ) throws -> [GroupMember] {
    try connection.query(
      Self.dedupeMembersSQL, [datasetID, hash.rawValue, ids], name: "dedupeMembers"
    )
    .map {
      let (id, pixels, value) = try $0.decode((Int64, Int64, Int64).self)
      return GroupMember(id: id, pixels: pixels, hash: UInt64(bitPattern: value))
    }
  }

  /// Writes near verdicts (representatives included, with themselves as representative).
  public func dedupeApplyNear(
    datasetID: Int64, verdicts: [NearVerdict], on connection: PostgresConnection
  ) throws {
    guard !verdicts.isEmpty else { return }
    try connection.query(
      Self.dedupeApplyNearSQL,
      [
        datasetID, verdicts.map(\.id), verdicts.map(\.representative),
        verdicts.map { Int32($0.distance) },
      ], name: "dedupeApplyNear")
  }

  /// Points exact copies at their keeper's near representative.
  public func dedupeFollow(datasetID: Int64, on connection: PostgresConnection) throws {
    try connection.query(Self.dedupeFollowSQL, [datasetID], name: "dedupeFollow")
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
