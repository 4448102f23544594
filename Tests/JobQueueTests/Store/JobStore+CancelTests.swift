import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

struct JobStoreCancelTests {
  @Test func queuedJobsCancelAtOnce() async throws {
    try await withQueueFactory { factory, _ in
      let ids = [
        try await factory.job(in: .available), try await factory.job(in: .scheduled),
        try await factory.job(in: .waiting), try await factory.job(in: .retrying),
      ]
      let done = try await factory.job(in: .succeeded)
      let result = try await factory.store.jobCancel(
        .init(ids: ids + [done], reason: "operator says no"))
      #expect(result.cancelled == 4 && result.requested == 0)
      for id in ids {
        let record = try await factory.record(id)
        #expect(record.state == .cancelled)
        #expect(record.lastError == "operator says no")
      }
      #expect(try await factory.state(done) == .succeeded)
    }
  }

  @Test func aRunningJobLearnsAtItsHeartbeatAndAcknowledges() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert()
      let job = try await factory.claim(id)
      let result = try await store.jobCancel(.init(ids: [id]))
      #expect(result.requested == 1 && result.cancelled == 0)
      #expect(try await factory.state(id) == .running)
      let beat = try await store.jobHeartbeatMany(
        .init(entries: [.init(id: id, leaseToken: job.leaseToken)]))
      #expect(beat.cancelRequested == [id])
      #expect(
        try await store.jobComplete(JobCompletion(job, .cancelled(reason: nil))) == .cancelled)
      #expect(try await factory.record(id).finishedAt != nil)
    }
  }

  @Test func theRescuerFinishesTheCancelOfADeadWorkersJob() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      _ = try await factory.claim(id, lease: .seconds(30))
      _ = try await factory.store.jobCancel(.init(ids: [id]))
      let rescued = try await factory.store.jobRescueExpired(
        .init(now: Date().addingTimeInterval(60)))
      #expect(rescued == [RescuedJob(id: id, state: .cancelled)])
    }
  }

  @Test func cancelsABatch() async throws {
    try await withQueueFactory { factory, _ in
      let batch = try await factory.store.batchCreate(.init(name: "to-cancel"))
      for _ in 0..<5 { _ = try await factory.insert(batchID: batch.id) }
      let outside = try await factory.insert()
      let result = try await factory.store.jobCancel(.init(batchID: batch.id))
      #expect(result.cancelled == 5)
      #expect(try await factory.state(outside) == .available)
      let progress = try await factory.store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.cancelled] == 5 && progress.counts[.available] == 0)
    }
  }
}
