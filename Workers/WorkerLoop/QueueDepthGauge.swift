import JobQueue
import Logging

/// Keeps `trolley_queue_depth` current: jobs available or waiting to retry in this worker's
/// queues, counted every `queueDepthInterval` (a count over the unfinished jobs, so never in the
/// heartbeat's way).
struct QueueDepthGauge: Sendable {
  let core: WorkerCore
  let metrics: WorkerMetrics

  func run() async {
    let queues = Set(core.configuration.queues)
    while !Task.isCancelled {
      do {
        metrics.setQueueDepth(try await core.driver.depth(of: queues))
      } catch {
        if Task.isCancelled { return }
        core.logger.debug("counting the queue depth failed", metadata: ["error": "\(error)"])
      }
      guard await core.pause(for: core.configuration.queueDepthInterval) else { return }
    }
  }
}
