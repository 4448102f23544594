import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

struct JobStoreRetentionTests {
  @Test func prunesOnlyOldFinishedJobsInSmallChunks() async throws {
    try await withQueueFactory { factory, store in
      var old: [Int64] = []
      for _ in 0..<5 { old.append(try await factory.job(in: .succeeded)) }
      let dead = try await factory.job(in: .dead)
      let running = try await factory.job(in: .running)
      let available = try await factory.job(in: .available)
      let later = Date().addingTimeInterval(7200)
      let first = try await store.jobDeleteFinished(
        .init(state: .succeeded, olderThan: .seconds(3600), limit: 2, now: later))
      #expect(first == 2)
      var total = first
      while true {
        let chunk = try await store.jobDeleteFinished(
          .init(state: .succeeded, olderThan: .seconds(3600), limit: 2, now: later))
        total += chunk
        if chunk < 2 { break }
      }
      #expect(total == 5)
      for id in old { #expect(try await store.jobGet(id: id) == nil) }
      // Younger than its age: kept.
      #expect(
        try await store.jobDeleteFinished(
          .init(state: .dead, olderThan: .seconds(3 * 3600), now: later)) == 0)
      #expect(try await factory.state(dead) == .dead)
      #expect(try await factory.state(running) == .running)
      #expect(try await factory.state(available) == .available)
      await #expect(throws: JobQueueError(.invalidRequest, "")) {
        try await store.jobDeleteFinished(.init(state: .running, olderThan: .zero))
      }
    }
  }
}
