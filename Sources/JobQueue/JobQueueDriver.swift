public import Logging

/// What a worker needs from a queue, and nothing more: register, claim, keep leases, acknowledge,
/// stop, and hear about new work.
///
/// `JobStore` (PostgreSQL) is the implementation the product runs; the worker loop's unit tests
/// drive the same loop with an in-memory one. Every method is one round trip; a thrown error is
/// transient from the worker's point of view (it logs and retries).
public protocol JobQueueDriver: Sendable {
  /// Records a worker in the registry and returns its id.
  func register(_ params: WorkerRegisterParams) async throws -> Int64

  /// Claims up to `params.limit` available jobs of one queue, leasing them to the worker.
  func claim(_ params: JobClaimParams) async throws -> [ClaimedJob]

  /// Extends the leases of held jobs (fenced by lease token), records their progress, and says
  /// which of them were cancelled or lost.
  func heartbeat(_ params: JobHeartbeatParams) async throws -> JobHeartbeatResult

  /// Marks the worker alive in the registry.
  func workerHeartbeat(id: Int64) async throws

  /// Writes outcomes (fenced by lease token): success, error, cancel, hand-back.
  func complete(_ params: JobCompleteManyParams) async throws -> JobCompleteManyResult

  /// Marks the worker stopped in the registry.
  func workerStop(id: Int64) async throws

  /// Jobs available now or waiting to retry, per queue, for the queues of `queues` that
  /// `worker` reports (the queue-depth gauge): those it is the lowest-id active worker of. Each
  /// queue is then published by exactly one worker, so summing the gauge over workers counts
  /// every waiting job once. Queues another worker reports are absent from the result.
  func depths(of queues: Set<String>, reportedBy worker: Int64) async throws -> [String: Int]

  /// Calls `wake` whenever new work may be available in `queues` (an enqueue's notification, or a
  /// reconnect after which notifications may have been missed), until the task is cancelled.
  /// Failures are the driver's to log and survive; `retryInterval` paces its reconnects.
  func listen(
    queues: Set<String>, retryInterval: Duration, logger: Logger,
    wake: @escaping @Sendable () -> Void
  ) async
}
