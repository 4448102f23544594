public import Curation
import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// The steps of a batch dedupe (design/curation.md, "Dedupe of 1M items"), each one
/// transaction, so a worker killed mid-step leaves nothing half-written and the retried job
/// computes the same rows:
///
/// 1. `reset`: undo the last run's verdicts, empty the dataset's band index and edges.
/// 2. `exact` (4 parts, by the first hex digit of sha256): same bytes → one keeper, the most
///    pixels then the lowest id; the others become `duplicate` (`exact`). Each part reads every
///    item once (sha256 is random against the table's order), so four parts, not sixteen.
/// 3. `pairs` (k = d + 1 bands × 4 value ranges): rewrite the range's buckets of the band index
///    (one row per band key with the ids and hashes of the kept items that have it), read them
///    back a page of buckets at a time, and in each bucket check every pair on all 64 bits; a
///    pair is kept only in the first band where it is equal, so no two jobs write the same edge.
/// 4. `groups`: union-find over the edges, 100,000 at a time, with the labels in PostgreSQL;
///    then one representative per group and the verdicts, in SQL.
///
/// Memory is one page of buckets plus one edge chunk, whatever the dataset's size.
public struct DatasetDeduper: Sendable {
  public let store: DatasetStore
  public var edgeChunk = 100_000
  /// Buckets per page of the pairs step (about 120 items each at 1M items and d = 4).
  public var bucketPage = 256
  /// Parts of the exact step (by the first hex digit of sha256) and value ranges per band.
  public static let exactParts = 4
  public static let rangesPerBand = 4

  public init(store: DatasetStore) {
    self.store = store
  }

  public typealias Summary = CurateDedupeContract.Result

  /// One step of a batch.
  public enum Step: Sendable, Hashable {
    case reset
    case exact(part: Int)
    case pairs(band: Int, part: Int)
    case groups

    /// The step a payload names (nil: the payload asks for every step in one job).
    /// - Throws: `DatasetError.invalidRequest` for an unknown step or a part out of range.
    public init?(payload: DedupePayload) throws {
      guard let name = payload.step else { return nil }
      let k = payload.distance + 1
      switch name {
      case "reset": self = .reset
      case "groups": self = .groups
      case "exact":
        guard let part = payload.part, (0..<DatasetDeduper.exactParts).contains(part) else {
          throw DatasetError(
            .invalidRequest, "curate.dedupe exact needs part 0...\(DatasetDeduper.exactParts - 1)")
        }
        self = .exact(part: part)
      case "pairs":
        guard let band = payload.band, (0..<k).contains(band), let part = payload.part,
          (0..<DatasetDeduper.rangesPerBand).contains(part)
        else {
          throw DatasetError(
            .invalidRequest, "curate.dedupe pairs needs band 0...\(k - 1) and part 0...3")
        }
        self = .pairs(band: band, part: part)
      default:
        throw DatasetError(
          .invalidRequest,
          "curate.dedupe step must be reset, exact, pairs or groups, got \(name)")
      }
    }

    /// Every step of a batch, in dependency order; `exactOnly` leaves out the perceptual pass
    /// (the pairs), for sets whose distinct images look alike to a grayscale hash.
    public static func plan(distance: Int, exactOnly: Bool = false) -> [[Step]] {
      let pairs: [Step] =
        exactOnly
        ? []
        : (0...distance).flatMap { band in
          (0..<DatasetDeduper.rangesPerBand).map { .pairs(band: band, part: $0) }
        }
      return [[.reset], (0..<DatasetDeduper.exactParts).map { .exact(part: $0) }, pairs, [.groups]]
        .filter { !$0.isEmpty }
    }

    /// The payload of this step.
    public func payload(datasetID: Int64, hash: HashKind, distance: Int) -> DedupePayload {
      switch self {
      case .reset:
        DedupePayload(datasetID: datasetID, hash: hash.rawValue, distance: distance, step: "reset")
      case .exact(let part):
        DedupePayload(
          datasetID: datasetID, hash: hash.rawValue, distance: distance, step: "exact", part: part)
      case .pairs(let band, let part):
        DedupePayload(
          datasetID: datasetID, hash: hash.rawValue, distance: distance, step: "pairs", part: part,
          band: band)
      case .groups:
        DedupePayload(datasetID: datasetID, hash: hash.rawValue, distance: distance, step: "groups")
      }
    }
  }

  /// Runs every step in order, one transaction each (tests, and datasets small enough for one
  /// job).
  public func run(
    datasetID: Int64, hash: HashKind, distance: Int, exactOnly: Bool = false,
    checkStop: @escaping @Sendable () throws -> Void
  ) async throws -> Summary {
    var total = Summary(exact: 0, bands: 0, edges: 0, groups: 0, near: 0)
    for stage in Step.plan(distance: distance, exactOnly: exactOnly) {
      for step in stage {
        try checkStop()
        let part = try await run(
          step, datasetID: datasetID, hash: hash, distance: distance, checkStop: checkStop)
        total.exact += part.exact
        total.bands += part.bands
        total.edges += part.edges
        total.groups += part.groups
        total.near += part.near
      }
    }
    return total
  }

  /// Runs one step in one transaction.
  public func run(
    _ step: Step, datasetID: Int64, hash: HashKind, distance: Int,
    checkStop: @escaping @Sendable () throws -> Void
  ) async throws -> Summary {
    let store = self.store
    let edgeChunk = self.edgeChunk
    let bucketPage = self.bucketPage
    return try await store.client.withTransaction { connection in
      var summary = Summary(exact: 0, bands: 0, edges: 0, groups: 0, near: 0)
      switch step {
      case .reset:
        try store.dedupeReset(datasetID: datasetID, on: connection)
      case .exact(let part):
        summary.exact = try store.dedupeExact(
          datasetID: datasetID, part: part, parts: Self.exactParts, on: connection)
      case .pairs(let band, let part):
        let layout = BandLayout(distance: distance)
        let values = BucketPairs.valueRange(
          layout: layout, band: band, part: part, parts: Self.rangesPerBand)
        _ = try store.dedupeBucketFill(
          datasetID: datasetID, hash: hash, layout: layout, band: band, values: values,
          on: connection)
        (summary.bands, summary.edges) = try Self.pairs(
          store: store, datasetID: datasetID, layout: layout, band: band, values: values,
          page: bucketPage, edgeChunk: edgeChunk, checkStop: checkStop, on: connection)
      case .groups:
        try Self.groups(
          store: store, datasetID: datasetID, edgeChunk: edgeChunk, checkStop: checkStop,
          on: connection)
        let (groups, near) = try store.unionApply(datasetID: datasetID, hash: hash, on: connection)
        summary.groups = groups
        summary.near = near
      }
      return summary
    }
  }

  /// The pairs step's scan: the range's buckets, page by page.
  /// - Returns: band entries read (one per kept item in the range) and edges written.
  static func pairs(
    store: DatasetStore, datasetID: Int64, layout: BandLayout, band: Int,
    values: ClosedRange<Int>, page: Int, edgeChunk: Int,
    checkStop: @Sendable () throws -> Void, on connection: PostgresConnection
  ) throws -> (entries: Int, edges: Int) {
    let scanner = BucketPairs(layout: layout, band: band)
    var edges: [NearEdge] = []
    var written = 0
    var entries = 0
    var after = Int32(values.lowerBound) - 1
    while true {
      try checkStop()
      let buckets = try store.dedupeBucketPage(
        datasetID: datasetID, band: band, after: after, last: values.upperBound, limit: page,
        on: connection)
      for bucket in buckets {
        entries += bucket.ids.count
        bucket.ids.withUnsafeBufferPointer { idBuffer in
          bucket.hashes.withUnsafeBufferPointer { hashBuffer in
            scanner.scan(ids: idBuffer, hashes: hashBuffer) { a, b, distance in
              edges.append(NearEdge(a: a, b: b, distance: distance))
            }
          }
        }
        if edges.count >= edgeChunk {
          try store.dedupeEdgesInsert(datasetID: datasetID, edges: edges, on: connection)
          written += edges.count
          edges.removeAll(keepingCapacity: true)
        }
      }
      guard let last = buckets.last, buckets.count == page else { break }
      after = last.value
    }
    try store.dedupeEdgesInsert(datasetID: datasetID, edges: edges, on: connection)
    return (entries, written + edges.count)
  }

  /// The groups step's union-find: edges in chunks; each chunk's labels joined in memory and
  /// written back.
  static func groups(
    store: DatasetStore, datasetID: Int64, edgeChunk: Int,
    checkStop: @Sendable () throws -> Void, on connection: PostgresConnection
  ) throws {
    try store.unionCreate(on: connection)
    var after: (Int64, Int64) = (Int64.min, Int64.min)
    while true {
      try checkStop()
      let chunk = try store.dedupeEdgeChunk(
        datasetID: datasetID, after: after, limit: edgeChunk, on: connection)
      guard let lastEdge = chunk.last else { break }
      var seen: Set<Int64> = []
      for (a, b) in chunk {
        seen.insert(a)
        seen.insert(b)
      }
      let current = try store.unionLabels(ids: Array(seen), on: connection)
      var label: [Int64: Int64] = [:]
      var sizes: [Int64: Int64] = [:]
      var newIDs: [Int64] = []
      for row in current {
        label[row.id] = row.label
        sizes[row.label] = row.size
        if row.label == row.id && row.size == 1 { newIDs.append(row.id) }
      }
      var merge = GroupMerge(sizes: sizes)
      for (a, b) in chunk { merge.union(label[a] ?? a, label[b] ?? b) }
      let (relabels, grown) = merge.result()
      try store.unionApplyChunk(
        newIDs: newIDs, relabels: relabels, sizes: grown, on: connection)
      if chunk.count < edgeChunk { break }
      after = lastEdge
    }
  }
}
