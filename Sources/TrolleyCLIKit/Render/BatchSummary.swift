/// What the CLI shows about one batch; filled from the queue's batch progress.
public struct BatchSummary: Sendable, Equatable {
  /// One state's exact count.
  public struct StateCount: Sendable, Equatable {
    public var state: String
    public var count: Int64
  }

  /// One distinct error message and how many jobs ended with it.
  public struct ErrorCount: Sendable, Equatable {
    public var message: String
    public var count: Int64
  }

  /// States in which a job is finished for good.
  public static let terminalStates: Set<String> = ["succeeded", "dead", "cancelled"]
  /// States shown first, in this order; any other state follows alphabetically.
  public static let stateOrder = [
    "succeeded", "running", "available", "scheduled", "retrying", "waiting", "dead", "cancelled",
  ]

  public var id: String
  public var name: String?
  public var createdAt: Double?
  /// Counts by state, in `stateOrder`.
  public var counts: [StateCount]
  /// Jobs finished per minute, oldest minute first (the last entry is the current minute).
  public var recentPerMinute: [Double]
  /// The recent rate used for the ETA, in jobs per minute.
  public var perMinute: Double?
  /// Seconds until every job is finished at the recent rate; nil when unknown or done.
  public var etaSeconds: Double?
  /// The most common errors, most frequent first.
  public var topErrors: [ErrorCount]

  public init(
    id: String, name: String?, createdAt: Double?, counts: [StateCount], recentPerMinute: [Double],
    perMinute: Double?, etaSeconds: Double?, topErrors: [ErrorCount]
  ) {
    self.id = id
    self.name = name
    self.createdAt = createdAt
    self.counts = counts.sorted { Self.rank($0.state) < Self.rank($1.state) }
    self.recentPerMinute = recentPerMinute
    self.perMinute = perMinute
    self.etaSeconds = etaSeconds
    self.topErrors = topErrors
  }

  private static func rank(_ state: String) -> (Int, String) {
    (stateOrder.firstIndex(of: state) ?? stateOrder.count, state)
  }

  public var total: Int64 { counts.reduce(0) { $0 + $1.count } }
  public var finished: Int64 {
    counts.filter { Self.terminalStates.contains($0.state) }.reduce(0) { $0 + $1.count }
  }
  public func count(_ state: String) -> Int64 { counts.first { $0.state == state }?.count ?? 0 }
  public var fractionFinished: Double { total == 0 ? 0 : Double(finished) / Double(total) }
}
