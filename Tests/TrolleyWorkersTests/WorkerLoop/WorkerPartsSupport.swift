import Foundation
import JobQueue
import Logging
import Postgres
import Synchronization
import Testing

@testable import TrolleyWorkers

/// A worker core over an in-memory queue, and helpers to put claimed jobs in its state as the
/// claim loop would.
struct PartsFixture {
  let queue = InMemoryQueue()
  let core: WorkerCore
  let acknowledger: Acknowledger

  init(configuration: WorkerConfiguration = .init(pollInterval: .milliseconds(10))) {
    core = WorkerCore(
      driver: queue, configuration: configuration, logger: Logger(label: "test.worker"),
      metrics: nil, observe: nil)
    acknowledger = Acknowledger(core: core)
  }

  /// Claims every available job of `kind` and records them as running, with `deadline` if given.
  func claimRunning(
    kind: String, deadline: ContinuousClock.Instant? = nil, timeout: Duration? = nil
  ) async throws -> [RunningJob] {
    let jobs = try await queue.claim(.init(kinds: [kind], limit: 10_000, workerID: 1))
    let now = ContinuousClock.now
    let entries = jobs.map { job in
      RunningJob(
        job: job,
        context: JobContext(
          jobID: job.id, queue: job.queue, attempt: job.attempt, batchID: nil, timeout: timeout),
        started: now, deadline: deadline, policy: .standard)
    }
    core.state.withLock { $0.start(entries) }
    return entries
  }
}
