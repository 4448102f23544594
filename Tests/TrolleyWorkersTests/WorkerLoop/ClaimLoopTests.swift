import Foundation
import JobQueue
import Postgres
import Testing

@testable import TrolleyWorkers

/// The claim loop claims from its queues in turn, only its kinds, and runs them in chunks.
struct ClaimLoopTests {
  /// Records the size of each batch it is handed.
  struct ChunkProbe: JobKind {
    struct Payload: Decodable, Sendable {}
    struct Result: Encodable, Sendable { var size: Int }
    static let name = "test.chunk-probe"
    var maxBatchSize: Int { 3 }
    let sizes: Sizes

    final class Sizes: @unchecked Sendable {
      private let lock = NSLock()
      private var values: [Int] = []
      func append(_ size: Int) { lock.withLock { values.append(size) } }
      var all: [Int] { lock.withLock { values } }
    }

    func run(_ payload: Payload, context: JobContext) async throws -> Result { Result(size: 1) }

    func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
      Result, any Error
    >] {
      sizes.append(batch.count)
      return batch.map { _ in .success(Result(size: batch.count)) }
    }
  }

  @Test func claimsFromTheQueuesInTurnUpToTheFreeSlots() async throws {
    let fixture = PartsFixture(
      configuration: .init(concurrency: 4, pollInterval: .milliseconds(10), queues: ["a", "b"]))
    for _ in 0..<2 { fixture.queue.insert(kind: "noop", queue: "a") }
    for _ in 0..<3 { fixture.queue.insert(kind: "noop", queue: "b") }
    fixture.queue.insert(kind: "unknown", queue: "a")
    let loop = ClaimLoop(
      core: fixture.core, runners: ["noop": KindRunner(NoopJob())],
      acknowledger: fixture.acknowledger)
    let claimed = await withTaskGroup(of: Void.self) { group -> Int? in
      let claimed = try? await loop.claim(workerID: 1, free: 4, turn: 1, group: &group)
      await group.waitForAll()
      return claimed
    }
    #expect(claimed == 4)
    // Turn 1 starts at queue b; b had 3, so a gave the fourth.
    #expect(fixture.queue.claims.map(\.queue) == ["b", "a"])
    #expect(fixture.queue.claims.map(\.limit) == [4, 1])
    #expect(fixture.queue.claims.allSatisfy { $0.kinds == ["noop"] })
    #expect(fixture.core.runningCount == 0)
    #expect(fixture.core.state.withLock { $0.pendingAcks.count } == 4)
  }

  @Test func runsAKindsJobsInChunksOfItsBatchSize() async throws {
    let fixture = PartsFixture()
    let sizes = ChunkProbe.Sizes()
    let loop = ClaimLoop(
      core: fixture.core, runners: [ChunkProbe.name: KindRunner(ChunkProbe(sizes: sizes))],
      acknowledger: fixture.acknowledger)
    for _ in 0..<7 { fixture.queue.insert(kind: ChunkProbe.name) }
    let jobs = try await fixture.queue.claim(.init(limit: 10, workerID: 1))
    await withTaskGroup(of: Void.self) { group in
      loop.start(jobs, group: &group)
      await group.waitForAll()
    }
    #expect(sizes.all.sorted() == [1, 3, 3])
    await fixture.acknowledger.flush(all: true)
    #expect(jobs.allSatisfy { fixture.queue.job($0.id)?.state == .succeeded })
    #expect(fixture.queue.job(jobs[0].id)?.result == #"{"size":3}"#)
  }

  @Test func aJobWithAnInvalidTimeoutIsDeadWithoutRunning() async throws {
    let fixture = PartsFixture()
    let sizes = ChunkProbe.Sizes()
    let loop = ClaimLoop(
      core: fixture.core, runners: [ChunkProbe.name: KindRunner(ChunkProbe(sizes: sizes))],
      acknowledger: fixture.acknowledger)
    let id = fixture.queue.insert(kind: ChunkProbe.name, payload: #"{"timeout_seconds": -1}"#)
    let jobs = try await fixture.queue.claim(.init(limit: 10, workerID: 1))
    await withTaskGroup(of: Void.self) { group in
      loop.start(jobs, group: &group)
      await group.waitForAll()
    }
    #expect(sizes.all.isEmpty)
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.job(id)?.state == .dead)
    #expect(fixture.queue.job(id)?.lastError?.contains("timeout_seconds") == true)
  }
}
