public import Logging
import Postgres

/// PostgreSQL as the worker's queue: each driver call is one of the store's statements on a pooled
/// connection; new work is heard through LISTEN on a connection of its own.
extension JobStore: JobQueueDriver {
  public func register(_ params: WorkerRegisterParams) async throws -> Int64 {
    try await workerRegister(params)
  }

  public func claim(_ params: JobClaimParams) async throws -> [ClaimedJob] {
    try await jobClaim(params)
  }

  public func heartbeat(_ params: JobHeartbeatParams) async throws -> JobHeartbeatResult {
    try await jobHeartbeatMany(params)
  }

  public func workerHeartbeat(id: Int64) async throws {
    _ = try await workerHeartbeat(id: id, now: nil)
  }

  public func complete(_ params: JobCompleteManyParams) async throws -> JobCompleteManyResult {
    try await jobCompleteMany(params)
  }

  public func workerStop(id: Int64) async throws {
    try await workerStop(id: id, now: nil)
  }

  public func depths(of queues: Set<String>, reportedBy worker: Int64) async throws
    -> [String: Int]
  {
    try await withConnection { connection in
      let reported = Set(
        try connection.query(
          Self.reportedQueuesSQL, [worker, queues.sorted()], name: "reportedQueues"
        ).map { row in try row.decode(0, as: String.self) })
      var depths: [String: Int] = [:]
      for queue in reported { depths[queue] = 0 }
      for overview in try self.queueOverview(on: connection) where reported.contains(overview.name)
      {
        depths[overview.name] = Int(
          (overview.counts[.available] ?? 0) + (overview.counts[.retrying] ?? 0))
      }
      return depths
    }
  }

  /// The queues of `$2` whose lowest-id active worker is `$1`. A worker that died without
  /// stopping keeps its queues until the stale sweep marks it, so for that while no one reports
  /// them: a gap in the series rather than a double count.
  static let reportedQueuesSQL = """
    SELECT q FROM unnest($2::text[]) AS q
    WHERE NOT EXISTS (
      SELECT 1 FROM workers w WHERE w.state = 'active' AND w.id < $1 AND q = ANY (w.queues))
    """

  public func listen(
    queues: Set<String>, retryInterval: Duration, logger: Logger,
    wake: @escaping @Sendable () -> Void
  ) async {
    let listener = PostgresListener(
      configuration: client.configuration, channels: [Self.notificationChannel])
    defer { listener.close() }
    var healthy = true
    while !Task.isCancelled {
      do {
        let notifications = try await listener.next(timeout: .seconds(30))
        if !healthy {
          // Notifications sent while disconnected are lost: look for work now.
          healthy = true
          wake()
        }
        if notifications.contains(where: { queues.contains($0.payload) }) { wake() }
      } catch is CancellationError {
        return
      } catch {
        healthy = false
        logger.warning(
          "listening for notifications failed; polling meanwhile", metadata: ["error": "\(error)"])
        try? await Task.sleep(for: retryInterval)
      }
    }
  }
}
