import ServiceLifecycle

/// The loop every maintenance service runs: a pass, then a jittered pause, until graceful
/// shutdown or cancellation. A failing pass is reported and retried after a longer pause (up to
/// 8 times the interval), so a database outage slows the services down instead of stopping them.
struct MaintenanceSchedule: Sendable {
  /// The pause between passes.
  var interval: Duration
  /// The fraction of the pause that is random (0...1), so many workers do not pass in step.
  var jitter: Double = 0.1

  func run(
    pass: @escaping @Sendable () async throws -> Void,
    failed: @escaping @Sendable (any Error) -> Void
  ) async {
    await cancelWhenGracefulShutdown {
      var failures = 0
      while !Task.isCancelled {
        do {
          try await pass()
          failures = 0
        } catch is CancellationError {
          return
        } catch {
          failures += 1
          failed(error)
        }
        let backoff = Double(1 << min(failures, 3))
        let factor = backoff * (1 - jitter * Double.random(in: 0..<1))
        do {
          try await Task.sleep(for: interval * factor)
        } catch {
          return
        }
      }
    }
  }
}
