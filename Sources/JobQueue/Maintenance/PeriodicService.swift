public import Logging
public import ServiceLifecycle

/// Runs a maintenance duty as a `Service`: a pass, then a jittered pause, until graceful shutdown
/// or cancellation. A failing pass is logged and retried after a longer pause (up to 8 times the
/// interval), so a database outage slows the services down instead of stopping them. The one loop
/// every maintenance service shares.
public struct PeriodicService<Duty: MaintenanceDuty>: Service {
  public let duty: Duty
  /// The fraction of the pause that is random (0...1), so many workers do not pass in step.
  public let jitter: Double
  let logger: Logger
  /// Called after every pass (tests await it instead of sleeping).
  let onPass: (@Sendable (Duty.RunOnceResult) -> Void)?

  /// - Parameters:
  ///   - duty: What each pass does, and the pause between passes.
  ///   - jitter: The random fraction of each pause, 0...1. Default 0.1.
  ///   - logger: Default: a logger labelled `trolley.<duty name>`.
  ///   - onPass: Called with each pass's result.
  public init(
    _ duty: Duty, jitter: Double = 0.1, logger: Logger? = nil,
    onPass: (@Sendable (Duty.RunOnceResult) -> Void)? = nil
  ) {
    precondition((0...1).contains(jitter), "PeriodicService.jitter must be within 0...1")
    self.duty = duty
    self.jitter = jitter
    self.logger = logger ?? Logger(label: "trolley.\(Duty.name)")
    self.onPass = onPass
  }

  public func run() async throws {
    await cancelWhenGracefulShutdown {
      var failures = 0
      while !Task.isCancelled {
        do {
          let result = try await duty.pass(logger: logger)
          onPass?(result)
          failures = 0
        } catch is CancellationError {
          return
        } catch {
          failures += 1
          logger.warning("\(Duty.name) pass failed", metadata: ["error": "\(error)"])
        }
        let backoff = Double(1 << min(failures, 3))
        let factor = backoff * (1 - jitter * Double.random(in: 0..<1))
        do {
          try await Task.sleep(for: duty.interval * factor)
        } catch {
          return
        }
      }
    }
  }
}
