import Foundation
import JobQueue
import Postgres
import Synchronization
import Testing

@testable import TrolleyWorkers

/// The acknowledger writes outcomes in statements of at most 1,000 and keeps them on failure.
struct AcknowledgerTests {
  @Test func writesOutcomesInStatementsOfAtMostAThousand() async throws {
    let fixture = PartsFixture()
    for _ in 0..<2500 { fixture.queue.insert(kind: "noop") }
    let running = try await fixture.claimRunning(kind: "noop")
    fixture.acknowledger.acknowledge(
      running.map { JobCompletion($0.job, .succeeded(result: PostgresJSONB(text: "{}"))) })
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.completeStatements.map(\.count) == [1000, 1000, 500])
    #expect(running.allSatisfy { fixture.queue.job($0.job.id)?.state == .succeeded })
    #expect(fixture.core.state.withLock { $0.pendingAcks.isEmpty })
  }

  @Test func aFailedWriteIsRetriedWithTheSameOutcomes() async throws {
    let fixture = PartsFixture()
    let id = fixture.queue.insert(kind: "fail")
    let running = try await fixture.claimRunning(kind: "fail")
    fixture.queue.failNext(.complete, times: 2)
    fixture.acknowledger.acknowledge([
      JobCompletion(running[0].job, .failed(error: "boom", retryDelay: .seconds(1)))
    ])
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.completeStatements.count == 1)  // the two failed calls recorded nothing
    #expect(fixture.queue.job(id)?.state == .retrying)
    #expect(fixture.queue.job(id)?.lastError == "boom")
  }

  @Test func anOutcomeForALostLeaseIsRejected() async throws {
    let fixture = PartsFixture()
    let id = fixture.queue.insert(kind: "noop")
    let running = try await fixture.claimRunning(kind: "noop")
    fixture.queue.takeOverLease(id)
    fixture.acknowledger.acknowledge([JobCompletion(running[0].job, .handedBack)])
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.job(id)?.state == .running)  // the new holder's, untouched
    #expect(fixture.core.state.withLock { $0.pendingAcks.isEmpty })
  }
}
