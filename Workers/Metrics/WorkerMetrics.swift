import BuildInfo
public import Prometheus
import Synchronization

/// The metrics a worker exports on `--metrics-port` (names match Ops/monitoring/trolley-alerts.yml).
public final class WorkerMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry
  /// Seconds since the worker's last successful heartbeat.
  public let heartbeatAge: Gauge
  /// `trolley_queue_depth{queue}`: jobs waiting (available + retrying) per queue, published only
  /// for the queues this worker reports (it is their lowest-id active worker), so that
  /// `sum(trolley_queue_depth)` over all workers counts each waiting job once.
  private let queueDepths = Mutex<[String: Gauge]>([:])
  /// Generated tokens per second over the last engine batch.
  public let engineTokensPerSecond: Gauge
  /// Jobs this worker is running now.
  public let jobsInFlight: Gauge
  /// Seconds since the last successful heartbeat as last recorded; negative before the first.
  private let lastHeartbeatAge = Atomic<Double>(-1)
  /// `/healthz` answers 503 when heartbeats are older than this (the database is unreachable).
  public let unhealthyHeartbeatAge: Double

  /// - Parameters:
  ///   - unhealthyHeartbeatAge: Seconds without a successful heartbeat after which `/healthz`
  ///     fails. Default 120.
  public init(
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    unhealthyHeartbeatAge: Double = 120
  ) {
    self.registry = registry
    self.unhealthyHeartbeatAge = unhealthyHeartbeatAge
    // The conventional info metric: constant 1, the build in its labels, so dashboards can show
    // (and alerts can compare) what each worker runs.
    registry.makeGauge(
      descriptor: Self.name(
        "build_info", unit: "", "Trolley's version and build commit (the value is always 1)"),
      labels: [("version", TrolleyBuild.version), ("commit", TrolleyBuild.commit)]
    ).set(Int64(1))
    heartbeatAge = registry.makeGauge(
      descriptor: Self.name(
        "worker_heartbeat_age", unit: "seconds",
        "Seconds since this worker's last successful heartbeat"))
    engineTokensPerSecond = registry.makeGauge(
      descriptor: Self.name(
        "engine_tokens_per_second", unit: "", "Decode tokens per second over the last engine batch")
    )
    jobsInFlight = registry.makeGauge(
      descriptor: Self.name("jobs_in_flight", unit: "", "Jobs this worker is running now"))
  }

  /// Counts one finished job. `outcome` is succeeded, retrying, dead or cancelled.
  public func recordJob(kind: String, outcome: String, seconds: Double) {
    registry.makeCounter(
      descriptor: Self.name(
        "jobs", unit: "total", "Jobs finished by this worker, by kind and outcome"),
      labels: [("kind", kind), ("outcome", outcome)]
    ).increment()
    registry.makeValueHistogram(
      descriptor: Self.name(
        "job_duration", unit: "seconds", "Wall time from claim to result, by kind"),
      labels: [("kind", kind)],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]
    ).record(seconds)
  }

  private static func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "trolley", metricName: metric, unitName: unit, helpText: help)
  }

  /// Publishes `depths` (queue name to waiting jobs) and withdraws the series of queues no longer
  /// in it, which another worker now reports.
  public func setQueueDepths(_ depths: [String: Int]) {
    queueDepths.withLock { gauges in
      for (queue, gauge) in gauges where depths[queue] == nil {
        registry.unregisterGauge(gauge)
        gauges[queue] = nil
      }
      for (queue, jobs) in depths {
        let gauge =
          gauges[queue]
          ?? registry.makeGauge(
            descriptor: Self.name(
              "queue_depth", unit: "",
              "Jobs available or waiting to retry, per queue; each queue is published by one worker, so sum over workers"
            ),
            labels: [("queue", queue)])
        gauges[queue] = gauge
        gauge.set(Int64(jobs))
      }
    }
  }

  public func setHeartbeatAge(seconds: Double) {
    heartbeatAge.set(seconds)
    lastHeartbeatAge.store(seconds, ordering: .relaxed)
  }

  /// Readiness for `/healthz`: ready once the worker has registered and heartbeated, not ready
  /// while loading the model or when heartbeats have been failing for `unhealthyHeartbeatAge`.
  public func health() -> (ok: Bool, reason: String) {
    let age = lastHeartbeatAge.load(ordering: .relaxed)
    if age < 0 { return (false, "starting: no heartbeat yet (loading the model or registering)") }
    if age > unhealthyHeartbeatAge {
      return (
        false, "unhealthy: no successful heartbeat for \(Int(age)) s (is the database reachable?)"
      )
    }
    return (true, "ok")
  }
  public func setTokensPerSecond(_ rate: Double) { engineTokensPerSecond.set(rate) }
  public func setJobsInFlight(_ jobs: Int) { jobsInFlight.set(Int64(jobs)) }

  /// The Prometheus text exposition of every metric.
  public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
