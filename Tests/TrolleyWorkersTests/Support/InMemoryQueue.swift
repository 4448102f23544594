import Foundation
import JobQueue
import Logging
import Postgres
import Synchronization
import TrolleyBasics

/// A queue in memory, for the worker loop's unit tests: the same fenced rules as `JobStore`
/// (a write with a stale lease token is rejected; a heartbeat reports cancel requests and lost
/// leases; an error spends the budget, a hand-back does not), without a database. It records every
/// call, and can be told to fail the next calls of an operation. Real PostgreSQL stays in the
/// integration tests (`WorkerLoopTests`, `JobTimeoutTests`, the end-to-end tests).
final class InMemoryQueue: JobQueueDriver {
  enum Operation: Hashable, Sendable { case register, claim, heartbeat, complete, workerStop }

  struct Job: Sendable {
    var id: Int64
    var queue: String
    var kind: String
    var payload: String
    var state: JobState = .available
    var attempt: Int32 = 0
    var maxAttempts: Int32
    var errorCount: Int32 = 0
    var leaseToken: Int64?
    var cancelRequested = false
    var progress: Double?
    var lastError: String?
    var result: String?
  }

  struct InjectedFailure: Error, CustomStringConvertible {
    var operation: Operation
    var description: String { "injected failure of \(operation)" }
  }

  private struct State {
    var jobs: [Int64: Job] = [:]
    var nextID: Int64 = 1
    var nextToken: Int64 = 100
    var workers: [Int64: Bool] = [:]  // id -> stopped
    var workerHeartbeats = 0
    var failures: [Operation: Int] = [:]
    var claims: [JobClaimParams] = []
    var heartbeats: [JobHeartbeatParams] = []
    var completeStatements: [[JobCompletion]] = []
    var listeners: [Int: @Sendable () -> Void] = [:]
    var nextListener = 0
  }
  private let state = Mutex(State())

  // MARK: - Test controls

  /// Adds an available job; returns its id. Listening workers are woken.
  @discardableResult
  func insert(
    kind: String, payload: String = "{}", queue: String = "default", maxAttempts: Int32 = 5
  )
    -> Int64
  {
    let (id, listeners) = state.withLock { state in
      let id = state.nextID
      state.nextID += 1
      state.jobs[id] = Job(
        id: id, queue: queue, kind: kind, payload: payload, maxAttempts: maxAttempts)
      return (id, Array(state.listeners.values))
    }
    for wake in listeners { wake() }
    return id
  }

  func job(_ id: Int64) -> Job? { state.withLock { $0.jobs[id] } }

  /// An operator's cancel request (seen at the next heartbeat).
  func requestCancel(_ id: Int64) { state.withLock { $0.jobs[id]?.cancelRequested = true } }

  /// The lease expires and another worker takes the job over (a new token).
  func takeOverLease(_ id: Int64) {
    state.withLock { state in
      state.jobs[id]?.leaseToken = state.nextToken
      state.nextToken += 1
    }
  }

  /// The next `times` calls of `operation` throw.
  func failNext(_ operation: Operation, times: Int = 1) {
    state.withLock { $0.failures[operation, default: 0] += times }
  }

  var claims: [JobClaimParams] { state.withLock { $0.claims } }
  var heartbeats: [JobHeartbeatParams] { state.withLock { $0.heartbeats } }
  var completeStatements: [[JobCompletion]] { state.withLock { $0.completeStatements } }
  var workerHeartbeats: Int { state.withLock { $0.workerHeartbeats } }
  func workerStopped(_ id: Int64) -> Bool? { state.withLock { $0.workers[id] } }

  private func check(_ operation: Operation) throws {
    try state.withLock { state in
      guard let left = state.failures[operation], left > 0 else { return }
      state.failures[operation] = left - 1
      throw InjectedFailure(operation: operation)
    }
  }

  /// A payload's declared `memory_bytes` (0 when it declares none), as the claim SQL reads it.
  static func memoryBytes(_ payload: String) -> Int64 {
    let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
    return (object?["memory_bytes"] as? NSNumber)?.int64Value ?? 0
  }

  // MARK: - JobQueueDriver

  func register(_ params: WorkerRegisterParams) async throws -> Int64 {
    try check(.register)
    return state.withLock { state in
      let id = Int64(state.workers.count + 1)
      state.workers[id] = false
      return id
    }
  }

  func claim(_ params: JobClaimParams) async throws -> [ClaimedJob] {
    try check(.claim)
    return state.withLock { state in
      state.claims.append(params)
      // What the worker's memory budget leaves beside the jobs it holds, as the claim SQL has it.
      let room = params.memoryLimit.map { $0 - params.memoryHeld }
      let candidates = state.jobs.values.filter { job in
        // Retrying jobs wait for their backoff, which this queue never ends.
        job.state == .available && job.queue == params.queue
          && (params.kinds.map(Set.init)?.contains(job.kind) ?? true)
          && (room.map { Self.memoryBytes(job.payload) <= $0 } ?? true)
      }.sorted { $0.id < $1.id }.prefix(params.limit)
      // Declared memory summed in claim order must fit the room; undeclared jobs always fit.
      var total: Int64 = 0
      let ready = candidates.filter { job in
        let memory = Self.memoryBytes(job.payload)
        total += memory
        return memory == 0 || (room.map { total <= $0 } ?? true)
      }
      return ready.map { job in
        var job = job
        job.state = .running
        job.attempt += 1
        job.leaseToken = state.nextToken
        state.nextToken += 1
        state.jobs[job.id] = job
        return ClaimedJob(
          id: job.id, queue: job.queue, kind: job.kind, payload: PostgresJSONB(text: job.payload),
          priority: 0, attempt: job.attempt, maxAttempts: job.maxAttempts,
          errorCount: job.errorCount, maxCrashes: 3, crashCount: 0, leaseToken: job.leaseToken!,
          leaseExpiresAt: Date() + params.lease.seconds, batchID: nil,
          memoryBytes: Self.memoryBytes(job.payload))
      }
    }
  }

  func heartbeat(_ params: JobHeartbeatParams) async throws -> JobHeartbeatResult {
    try check(.heartbeat)
    return state.withLock { state in
      state.heartbeats.append(params)
      var result = JobHeartbeatResult()
      for entry in params.entries {
        guard var job = state.jobs[entry.id], job.leaseToken == entry.leaseToken else {
          result.lost.insert(entry.id)
          continue
        }
        result.extended.insert(entry.id)
        if job.cancelRequested { result.cancelRequested.insert(entry.id) }
        if let progress = entry.progress { job.progress = progress }
        state.jobs[entry.id] = job
      }
      return result
    }
  }

  func workerHeartbeat(id: Int64) async throws {
    state.withLock { $0.workerHeartbeats += 1 }
  }

  func complete(_ params: JobCompleteManyParams) async throws -> JobCompleteManyResult {
    try check(.complete)
    return state.withLock { state in
      state.completeStatements.append(params.completions)
      var result = JobCompleteManyResult()
      for completion in params.completions {
        guard var job = state.jobs[completion.id], job.leaseToken == completion.leaseToken else {
          result.rejected.insert(completion.id)
          continue
        }
        job.leaseToken = nil
        switch completion.outcome {
        case .succeeded(let json):
          job.state = .succeeded
          job.result = String(decoding: json.bytes, as: UTF8.self)
        case .cancelled(let reason):
          job.state = .cancelled
          job.lastError = reason
        case .handedBack:
          job.state = job.cancelRequested ? .cancelled : .available
          job.attempt -= 1
        case .failedPermanently(let error):
          job.state = job.cancelRequested ? .cancelled : .dead
          job.errorCount += 1
          job.lastError = error
        case .failed(let error, _):
          job.errorCount += 1
          job.state =
            job.cancelRequested ? .cancelled : job.errorCount >= job.maxAttempts ? .dead : .retrying
          job.lastError = error
        }
        state.jobs[job.id] = job
        result.applied[job.id] = job.state
      }
      return result
    }
  }

  func workerStop(id: Int64) async throws {
    try check(.workerStop)
    state.withLock { $0.workers[id] = true }
  }

  func depths(of queues: Set<String>, reportedBy worker: Int64) async throws -> [String: Int] {
    state.withLock { state in
      var depths: [String: Int] = [:]
      for queue in queues { depths[queue] = 0 }
      for job in state.jobs.values
      where queues.contains(job.queue) && (job.state == .available || job.state == .retrying) {
        depths[job.queue, default: 0] += 1
      }
      return depths
    }
  }

  func listen(
    queues: Set<String>, retryInterval: Duration, logger: Logger,
    wake: @escaping @Sendable () -> Void
  ) async {
    let key = state.withLock { state in
      defer { state.nextListener += 1 }
      state.listeners[state.nextListener] = wake
      return state.nextListener
    }
    while !Task.isCancelled {
      try? await Task.sleep(for: .seconds(3600))
    }
    _ = state.withLock { $0.listeners.removeValue(forKey: key) }
  }
}
