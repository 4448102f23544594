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

  public func depth(of queues: Set<String>) async throws -> Int {
    let overview = try await withConnection { try self.queueOverview(on: $0) }
    let depth = overview.filter { queues.contains($0.name) }.reduce(Int64(0)) {
      $0 + ($1.counts[.available] ?? 0) + ($1.counts[.retrying] ?? 0)
    }
    return Int(depth)
  }

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
