import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

/// Walks every edge of docs/queue.md's state table against PostgreSQL, through the store.
struct JobStateTransitionTests {
  @Test(arguments: JobTransition.allCases)
  func edgeHoldsInTheDatabase(_ event: JobTransition) async throws {
    try await withQueueFactory { factory, store in
      let edges = JobTransition.edges.filter { $0.event == event }
      try #require(!edges.isEmpty)
      for edge in edges {
        let reached = try await Self.walk(edge.from, event, factory: factory)
        #expect(reached == edge.to, "\(edge.from?.rawValue ?? "new") --\(event)--> \(edge.to)")
      }
      // Where the event does not apply, the store changes nothing.
      for from in JobState.allCases where event.target(from: from) == nil {
        guard let before = try? await Self.inapplicable(from, event, factory: factory) else {
          continue
        }
        #expect(try await store.jobGet(id: before)?.state == from, "\(from) --\(event)--> changed")
      }
    }
  }

  /// Puts a job in `from`, applies `event`, returns the state it reached.
  static func walk(_ from: JobState?, _ event: JobTransition, factory: QueueFactory) async throws
    -> JobState?
  {
    let store = factory.store
    let queue = "edge-\(UUID().uuidString)"
    let ok = PostgresJSONB(text: "{}")
    switch event {
    case .enqueueReady:
      return try await store.jobInsert(.init(queue: queue, kind: "noop")).state
    case .enqueueScheduled:
      return try await store.jobInsert(
        .init(queue: queue, kind: "noop", runAt: Date().addingTimeInterval(600))
      ).state
    case .enqueueWaiting:
      let blocker = try await factory.job(in: .available)
      return try await store.jobInsert(.init(queue: queue, kind: "noop", dependsOn: [blocker]))
        .state
    case .enqueueDependencyFailed:
      let blocker = try await factory.job(in: .dead)
      return try await store.jobInsert(.init(queue: queue, kind: "noop", dependsOn: [blocker]))
        .state
    case .promote:
      let id = try await factory.job(in: try #require(from), queue: queue)
      try await store.jobPromoteDue(.init(now: Date().addingTimeInterval(7200)))
      return try await factory.state(id)
    case .claim:
      let id = try await factory.job(in: .available, queue: queue)
      _ = try await factory.claim(id, queue: queue)
      return try await factory.state(id)
    case .complete, .failRetryable, .failFinal, .acknowledgeCancel, .handBack:
      let id = try await factory.insert(queue: queue, maxAttempts: 2)
      let job = try await factory.claim(id, queue: queue)
      let outcome: JobOutcome =
        switch event {
        case .complete: .succeeded(result: ok)
        case .failRetryable: .failed(error: "transient", retryDelay: .seconds(1))
        case .failFinal: .failedPermanently(error: "bad input")
        case .acknowledgeCancel: .cancelled(reason: nil)
        default: .handedBack
        }
      return try await store.jobComplete(JobCompletion(job, outcome))
    case .rescue, .rescueQuarantine, .rescueCancelled:
      let id = try await factory.insert(
        queue: queue, maxCrashes: event == .rescueQuarantine ? 1 : 3)
      _ = try await factory.claim(id, queue: queue, lease: .seconds(1))
      if event == .rescueCancelled { _ = try await store.jobCancel(.init(ids: [id])) }
      let rescued = try await store.jobRescueExpired(.init(now: Date().addingTimeInterval(60)))
      return rescued.first { $0.id == id }?.state
    case .cancel:
      let id = try await factory.job(in: try #require(from), queue: queue)
      _ = try await store.jobCancel(.init(ids: [id]))
      return try await factory.state(id)
    case .dependenciesSucceeded, .dependencyFailed, .dependenciesSucceededEarly:
      let blocker = try await factory.insert(queue: queue)
      let waiting = try #require(
        try await store.jobInsert(
          .init(
            queue: "\(queue)-dependent", kind: "noop",
            runAt: event == .dependenciesSucceededEarly ? Date().addingTimeInterval(3600) : nil,
            dependsOn: [blocker])
        ).id)
      let job = try await factory.claim(blocker, queue: queue)
      try await store.jobComplete(
        JobCompletion(
          job,
          event != .dependencyFailed ? .succeeded(result: ok) : .failedPermanently(error: "x"))
      )
      return try await factory.state(waiting)
    case .retry:
      let id = try await factory.job(in: .dead, queue: queue)
      try await store.jobRetry(.init(ids: [id]))
      return try await factory.state(id)
    case .dependencyRetried:
      let blocker = try await factory.insert(queue: queue)
      let dependent = try #require(
        try await store.jobInsert(
          .init(queue: "\(queue)-dependent", kind: "noop", dependsOn: [blocker])
        ).id)
      let job = try await factory.claim(blocker, queue: queue)
      try await store.jobComplete(JobCompletion(job, .failedPermanently(error: "x")))
      try #require(try await factory.state(dependent) == .cancelled)
      try await store.jobRetry(.init(ids: [blocker]))
      return try await factory.state(dependent)
    }
  }

  /// Tries `event` on a job in a state it does not apply to; returns the job's id.
  static func inapplicable(_ from: JobState, _ event: JobTransition, factory: QueueFactory)
    async throws -> Int64?
  {
    let store = factory.store
    switch event {
    case .promote:
      let id = try await factory.job(in: from)
      try await store.jobPromoteDue(.init(now: Date().addingTimeInterval(7200)))
      return id
    case .cancel where from != .running:
      let id = try await factory.job(in: from)
      _ = try await store.jobCancel(.init(ids: [id]))
      return id
    case .retry:
      let id = try await factory.job(in: from)
      try await store.jobRetry(.init(ids: [id]))
      return id
    case .rescue:
      let id = try await factory.job(in: from)
      _ = try await store.jobRescueExpired(.init(now: Date().addingTimeInterval(60)))
      return from == .running ? nil : id
    default:
      return nil
    }
  }
}
