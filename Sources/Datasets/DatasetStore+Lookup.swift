public import Curation
public import Postgres

/// One stored hash a lookup found.
public struct LookupMatch: Sendable, Hashable {
  public var id: Int64
  public var distance: Int
}

extension DatasetStore {
  // The probes of `BandLayout.probes` joined to the band index (one bucket per probe), each
  // bucket's items verified on all 64 bits; an item found through several bands counts once.
  static let lookupSQL = """
    SELECT u.id, min(bit_count((u.h # $4)::bit(64)))::int
    FROM unnest($2::smallint[], $3::int[]) AS p(band, value)
    JOIN dataset_bucket b ON b.dataset_id = $1 AND b.band = p.band AND b.value = p.value
    CROSS JOIN LATERAL unnest(b.item_ids, b.hashes) AS u(id, h)
    WHERE bit_count((u.h # $4)::bit(64)) <= $5
    GROUP BY u.id ORDER BY 2, 1
    """

  /// Every item in the dataset's band index (built with `layout`) within `distance` of `hash`:
  /// what an incremental dedupe asks for each new item.
  public func lookup(
    datasetID: Int64, hash: UInt64, distance: Int, layout: BandLayout,
    on connection: PostgresConnection
  ) throws -> [LookupMatch] {
    let probes = layout.probes(hash, distance: distance)
    return try connection.query(
      Self.lookupSQL,
      [
        datasetID, probes.map { Int16($0.band) }, probes.map { Int32($0.value) },
        Int64(bitPattern: hash), Int32(distance),
      ], name: "datasetLookup"
    ).map {
      let (id, distance) = try $0.decode((Int64, Int32).self)
      return LookupMatch(id: id, distance: Int(distance))
    }
  }
}
