public import Curation
public import Postgres
public import TrolleyJobContracts

/// The whole of one `curate.dedupe` run, in one transaction so that a worker killed halfway
/// leaves nothing behind and the retry computes the same groups from the same rows:
/// reset → exact groups by sha256 → band table → verified edges, one band at a time →
/// union-find over the edges, read 100,000 at a time → one representative per group (most
/// pixels, then lowest id) → verdicts written in chunks.
///
/// Memory holds one edge chunk plus the union-find over items that have edges; items without a
/// near duplicate never enter it.
public struct DatasetDeduper: Sendable {
  public let store: DatasetStore
  public var edgeChunk = 100_000
  public var writeChunk = 10_000

  public init(store: DatasetStore) {
    self.store = store
  }

  public typealias Summary = CurateDedupeContract.Result

  public func run(
    datasetID: Int64, hash: HashKind, distance: Int,
    checkStop: @escaping @Sendable () throws -> Void
  )
    async throws -> Summary
  {
    let store = self.store
    let edgeChunk = self.edgeChunk
    let writeChunk = self.writeChunk
    return try await store.client.withTransaction { connection in
      try store.dedupeReset(datasetID: datasetID, on: connection)
      let exact = try store.dedupeExact(datasetID: datasetID, on: connection)
      let layout = BandLayout(distance: distance)
      let bands = try store.dedupeBands(
        datasetID: datasetID, hash: hash, layout: layout, on: connection)
      var edges = 0
      for band in 0..<layout.count {
        try checkStop()
        edges += try store.dedupeEdges(
          datasetID: datasetID, band: band, distance: distance, on: connection)
      }
      var groups = DuplicateGroups()
      var after: (Int64, Int64) = (Int64.min, Int64.min)
      while true {
        let chunk = try store.dedupeEdgeChunk(
          datasetID: datasetID, after: after, limit: edgeChunk, on: connection)
        for (a, b) in chunk { groups.union(a, b) }
        guard let last = chunk.last, chunk.count == edgeChunk else { break }
        after = last
      }
      var verdicts: [NearVerdict] = []
      var near = 0
      let found = groups.groups()
      for members in found {
        let rows = try store.dedupeMembers(
          datasetID: datasetID, hash: hash, ids: members, on: connection)
        guard
          let rep = DuplicateGroups.representative(of: rows.map { ($0.id, $0.pixels) }),
          let repHash = rows.first(where: { $0.id == rep })?.hash
        else { continue }
        for row in rows {
          verdicts.append(
            NearVerdict(
              id: row.id, representative: rep, distance: hammingDistance(row.hash, repHash)))
          if row.id != rep { near += 1 }
        }
        if verdicts.count >= writeChunk {
          try store.dedupeApplyNear(datasetID: datasetID, verdicts: verdicts, on: connection)
          verdicts.removeAll(keepingCapacity: true)
        }
      }
      try store.dedupeApplyNear(datasetID: datasetID, verdicts: verdicts, on: connection)
      try store.dedupeFollow(datasetID: datasetID, on: connection)
      return Summary(exact: exact, bands: bands, edges: edges, groups: found.count, near: near)
    }
  }
}
