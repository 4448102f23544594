import Curation
import Datasets
import Digest
import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TroL
import TroLSynthesis
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

/// Ingest and dedupe on real PostgreSQL over generated files with known ground truth
/// (`DuplicateSet`): originals plus an exact copy, a resize (0.5x-2x), a JPEG re-encode (q70-95)
/// and a brightness shift of each. `TROLLEY_DEDUPE_ORIGINALS` scales the set (default 300 in CI;
/// the 5,000 run of the issue is the same test with the variable set). `CurationProcessTests`
/// runs the same set through worker processes, one SIGKILLed mid-dedupe.
@Suite(.serialized) struct CurationPipelineTests {
  static var originals: Int {
    Int(ProcessInfo.processInfo.environment["TROLLEY_DEDUPE_ORIGINALS"] ?? "") ?? 300
  }

  /// Writes the set (`DuplicateSet`); returns each file's path and the original it derives
  /// from, and how many files repeat an earlier file byte for byte (the copies, and a resize whose
  /// scale rounds to the original size).
  static func writeSet(count: Int, into folder: URL) throws -> (truth: [String: Int], exact: Int) {
    var truth: [String: Int] = [:]
    var seen: Set<String> = []
    var exact = 0
    // The files are read back rather than kept: 5,000 originals write ~5 GB.
    for member in try DuplicateSet.write(originals: count, into: folder) {
      if !seen.insert(try SHA256.hex(ofFile: member.path)).inserted { exact += 1 }
      truth[member.path] = member.group
    }
    return (truth, exact)
  }

  @Test func ingestThenDedupeFindsTheKnownGroups() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "curation-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (truth, exactCopies) = try Self.writeSet(count: Self.originals, into: folder)

    try await withTestDatabase { database in
      let store = DatasetStore(client: database.client)
      let jobs = JobStore(client: database.client)
      // The resized copies go down to 160x120: switch the size filters off for this set.
      let dataset = try await store.datasetCreate(
        name: "pipeline", filters: FilterSettings(minSide: 0, maxAspect: 0))
      let planner = DatasetPlanner(store: store, jobs: jobs)
      let sources = try FileManager.default.contentsOfDirectory(atPath: folder.path).map {
        folder.appendingPathComponent($0).standardizedFileURL.path
      }
      #expect(sources.count == truth.count)
      let plan = try await planner.ingest(dataset: "pipeline", sources: sources, chunk: 250)
      #expect(plan.added == truth.count)
      #expect(plan.jobs == (truth.count + 249) / 250)
      // Re-ingesting the same sources adds neither items nor jobs.
      let again = try await planner.ingest(dataset: "pipeline", sources: sources, chunk: 250)
      #expect(again.added == 0 && again.jobs == 0)

      // Run the planned jobs' payloads through the kind itself (the worker loop is tested
      // elsewhere); a second run of a chunk records nothing new.
      // Workers read local files only under the roots they are given (issue 13).
      var policy = ImageFetcher.Policy()
      policy.localRoots = [folder.path]
      let settings = CurationJobSettings(store: store, fetcher: ImageFetcher(policy: policy))
      let ingest = CurateIngestJob(settings: settings)
      let payloads = try await database.client.query(
        "SELECT payload::text FROM jobs WHERE kind = $1 ORDER BY id", [CurationKindNames.ingest]
      ).map {
        try JSONDecoder().decode(
          IngestPayload.self, from: Data(try $0.decode(0, as: String.self).utf8))
      }
      #expect(payloads.count == plan.jobs)
      for (index, payload) in payloads.enumerated() {
        let context = JobContext(jobID: Int64(index), queue: "default", attempt: 1, batchID: nil)
        let result = try await ingest.run(payload, context: context)
        #expect(result.recorded == result.items)
      }
      let rerun = try await ingest.run(
        payloads[0], context: JobContext(jobID: 0, queue: "default", attempt: 2, batchID: nil))
      #expect(rerun.items == 0 && rerun.recorded == 0)

      let progress = try await store.progress(datasetID: dataset.id)
      #expect(progress.items == truth.count)
      #expect(!progress.byStatus.contains { $0.status == "pending" })

      let deduper = DatasetDeduper(store: store)
      let summary = try await deduper.run(
        datasetID: dataset.id, hash: .phash, distance: 4, checkStop: {})
      #expect(summary.exact == exactCopies)
      #expect(exactCopies >= Self.originals)

      let groups = try await Self.groups(database.client, datasetID: dataset.id)
      let (precision, recall) = DuplicateSet.pairScores(truth: truth, predicted: groups)
      print("dedupe: \(truth.count) items, precision \(precision), recall \(recall), \(summary)")
      #expect(precision >= 0.99)
      #expect(recall >= 0.99)

      // Every item ends in exactly one final status, one kept item per group.
      let statuses = try await database.client.query(
        "SELECT status::text, count(*)::bigint FROM dataset_item WHERE dataset_id = $1 GROUP BY 1",
        [dataset.id]
      ).map { try $0.decode((String, Int64).self) }
      #expect(statuses.reduce(0) { $0 + $1.1 } == Int64(truth.count))
      #expect(Set(statuses.map(\.0)).isSubset(of: ["ok", "duplicate", "bad", "filtered"]))

      // A second run starts from a reset and finds the same groups.
      _ = try await deduper.run(datasetID: dataset.id, hash: .phash, distance: 4, checkStop: {})
      let again2 = try await Self.groups(database.client, datasetID: dataset.id)
      #expect(again2 == groups)

      // Every distance finds exactly the brute-force pairs, including d = 0 and 1, whose bands
      // are wider than the band index's 31-bit key (folded).
      for distance in [0, 1, 4] {
        let run = try await deduper.run(
          datasetID: dataset.id, hash: .phash, distance: distance, checkStop: {})
        #expect(run.exact == exactCopies)
        let candidates = try await database.client.query(
          """
          SELECT id, phash FROM dataset_item WHERE dataset_id = $1 AND phash IS NOT NULL
            AND status IN ('ok', 'duplicate') AND reason IS DISTINCT FROM 'exact' ORDER BY id
          """, [dataset.id]
        ).map { try $0.decode((Int64, Int64).self) }
        var expected: Set<[Int64]> = []
        for i in candidates.indices {
          for j in candidates.indices where j > i {
            let d = (UInt64(bitPattern: candidates[i].1) ^ UInt64(bitPattern: candidates[j].1))
              .nonzeroBitCount
            if d <= distance { expected.insert([candidates[i].0, candidates[j].0]) }
          }
        }
        let edges = try await database.client.query(
          "SELECT a, b FROM dataset_edge WHERE dataset_id = $1", [dataset.id]
        ).map { try $0.decode((Int64, Int64).self) }
        #expect(Set(edges.map { [$0.0, $0.1] }) == expected, "distance \(distance)")
      }

      // Exact copies only: the same exact verdicts, no near pairs and no near duplicates.
      let exactOnly = try await deduper.run(
        datasetID: dataset.id, hash: .phash, distance: 4, exactOnly: true, checkStop: {})
      #expect(exactOnly.exact == exactCopies)
      #expect(exactOnly.edges == 0 && exactOnly.near == 0)
      let near = try await database.client.query(
        "SELECT count(*)::bigint FROM dataset_item WHERE dataset_id = $1 AND reason = 'near'",
        [dataset.id]
      ).single().decode(0, as: Int64.self)
      #expect(near == 0)
    }
  }

  /// Source path → group id (nil: in no group).
  static func groups(_ client: PostgresClient, datasetID: Int64) async throws -> [String: Int64] {
    var result: [String: Int64] = [:]
    for row in try await client.query(
      "SELECT source, group_id FROM dataset_item WHERE dataset_id = $1 AND group_id IS NOT NULL",
      [datasetID])
    {
      let (source, group) = try row.decode((String, Int64).self)
      result[source] = group
    }
    return result
  }
}
