public import Logging

/// One of the queue's maintenance duties (rescue, retention, sweeping, ...): what a single pass
/// does and how often it is due. `PeriodicService` runs any duty as a `Service`; tests call the
/// duty's own `runOnce` directly, with the time they need.
public protocol MaintenanceDuty: Sendable {
  /// What one pass did.
  associatedtype RunOnceResult: Sendable
  /// The duty's settings.
  associatedtype Configuration: Sendable

  /// The duty's settings (each field with its unit and default).
  var configuration: Configuration { get }

  /// The duty's name in logs: the runner's logger is `trolley.<name>` and a failed pass is logged
  /// as "<name> pass failed".
  static var name: String { get }

  /// The pause between passes.
  var interval: Duration { get }

  /// One pass on the server's clock, logging what an operator should hear about.
  func pass(logger: Logger) async throws -> RunOnceResult
}

/// A configuration whose `interval` is the pause between passes (all but the reindexer's, which
/// checks more often than it rebuilds).
public protocol MaintenanceConfiguration: Sendable {
  /// The pause between passes.
  var interval: Duration { get }
}

extension MaintenanceDuty where Configuration: MaintenanceConfiguration {
  public var interval: Duration { configuration.interval }
}

/// Runs `statement` (which handles at most `limit` rows) again while it comes back full, sleeping
/// `pause` (when given) in between, and returns the rows of all the runs: a pass catches up on a
/// backlog in short statements that each hold their locks briefly.
func repeatWhileFull(
  limit: Int, pausing pause: Duration? = nil, _ statement: () async throws -> Int
) async throws -> Int {
  var total = 0
  while true {
    let rows = try await statement()
    total += rows
    if rows < limit { return total }
    if let pause { try await Task.sleep(for: pause) }
  }
}
