import Foundation
import JobQueue
import Testing

@testable import TrolleyWorkers

/// Claimed jobs are cut into batches by image: one image's questions share a batch even when
/// they were enqueued apart.
struct JobChunksTests {
  @Test func groupsJobsWithOneKeyAndPacksTheRest() {
    // Claim order: a b c a b a d; batches of 2.
    let keys: [String?] = ["a", "b", "c", "a", "b", "a", nil]
    let chunks = JobChunks.plan(keys: keys, size: 2)
    #expect(chunks.flatMap { $0 }.sorted() == Array(0..<7))
    #expect(chunks.allSatisfy { $0.count <= 2 })
    // a's first two, b's two; then a's third with c (first fit), and the keyless job alone.
    #expect(chunks == [[0, 3], [1, 4], [2, 5], [6]])
  }

  @Test func aGroupIsSplitOnlyWhenLargerThanABatch() {
    let keys: [String?] = ["x", "y", "x", "y", "x", "y"]
    #expect(JobChunks.plan(keys: keys, size: 4) == [[0, 2, 4], [1, 3, 5]])
    #expect(JobChunks.plan(keys: keys, size: 3) == [[0, 2, 4], [1, 3, 5]])
    #expect(JobChunks.plan(keys: keys, size: 1).count == 6)
  }

  /// A kind batched by its payload's image, logging each batch's images.
  struct ImageProbeJob: JobKind {
    struct Payload: Decodable, Sendable { var image: String }
    struct Result: Encodable, Sendable { var batch: [String] }
    static let name = "test.image-probe"
    var maxBatchSize: Int { 2 }
    let log: BatchLog

    final class BatchLog: @unchecked Sendable {
      private let lock = NSLock()
      private var batches: [[String]] = []
      func append(_ batch: [String]) { lock.withLock { batches.append(batch) } }
      var all: [[String]] { lock.withLock { batches } }
    }

    func groupKey(_ payload: Payload) -> String? { payload.image }

    func run(_ payload: Payload, context: JobContext) async throws -> Result {
      Result(batch: [payload.image])
    }

    func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
      Result, any Error
    >] {
      let images = batch.map(\.payload.image)
      log.append(images)
      return batch.map { _ in .success(Result(batch: images)) }
    }
  }

  @Test func theClaimLoopBatchesJobsOnOneImageTogether() async throws {
    let fixture = PartsFixture()
    let log = ImageProbeJob.BatchLog()
    let loop = ClaimLoop(
      core: fixture.core, runners: [ImageProbeJob.name: KindRunner(ImageProbeJob(log: log))],
      acknowledger: fixture.acknowledger)
    // Enqueued apart: one question on each image, then a second on each.
    for image in ["a.png", "b.png", "a.png", "b.png"] {
      fixture.queue.insert(kind: ImageProbeJob.name, payload: #"{"image": "\#(image)"}"#)
    }
    let jobs = try await fixture.queue.claim(.init(limit: 10, workerID: 1))
    await withTaskGroup(of: Void.self) { group in
      loop.start(jobs, group: &group)
      await group.waitForAll()
    }
    #expect(log.all.sorted { $0[0] < $1[0] } == [["a.png", "a.png"], ["b.png", "b.png"]])
    await fixture.acknowledger.flush(all: true)
    #expect(jobs.allSatisfy { fixture.queue.job($0.id)?.state == .succeeded })
  }
}
