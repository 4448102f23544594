import JobQueue
import Logging

/// Keeps `trolley_queue_depth{queue}` current: jobs available or waiting to retry in the queues
/// this worker reports (those it is the lowest-id active worker of, so each queue is published by
/// one worker), counted every `queueDepthInterval` (a count over the unfinished jobs, so never in
/// the heartbeat's way).
struct QueueDepthGauge: Sendable {
  let core: WorkerCore
  let metrics: WorkerMetrics

  func run(workerID: Int64) async {
    let queues = Set(core.configuration.queues)
    while !Task.isCancelled {
      do {
        metrics.setQueueDepths(try await core.driver.depths(of: queues, reportedBy: workerID))
      } catch {
        if Task.isCancelled { return }
        core.logger.debug("counting the queue depth failed", metadata: ["error": "\(error)"])
      }
      guard await core.pause(for: core.configuration.queueDepthInterval) else { return }
    }
  }
}
