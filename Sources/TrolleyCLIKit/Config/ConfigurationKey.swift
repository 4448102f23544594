/// A setting operators can give by flag, environment variable or configuration file.
public struct ConfigurationKey: Hashable, Sendable {
  /// The name in the configuration file (snake_case).
  public let name: String
  /// Environment variables read for it, first match wins.
  public let environment: [String]
  /// The value when nothing sets it; nil means "unset" (for example: use the embedded database).
  public let defaultValue: String?
  /// Printed masked by `trolley config`.
  public let isSecret: Bool
  /// One line for `trolley config` and docs/cli.md.
  public let summary: String

  /// A key read from the environment as `TROLLEY_` and its name in capitals (`queue`:
  /// `TROLLEY_QUEUE`), then from the variables in `alsoReads`.
  private init(
    _ name: String, defaultValue: String?, summary: String, alsoReads: [String] = [],
    isSecret: Bool = false
  ) {
    self.name = name
    self.environment = ["TROLLEY_" + name.uppercased()] + alsoReads
    self.defaultValue = defaultValue
    self.isSecret = isSecret
    self.summary = summary
  }

  /// The database to use, as a libpq URI or key=value string. Default: the embedded database.
  public static let databaseURL = ConfigurationKey(
    "database_url", defaultValue: nil,
    summary: "PostgreSQL URI; unset means PG* variables or the embedded database",
    alsoReads: ["DATABASE_URL"], isSecret: true)
  /// The queue `enqueue` puts jobs in. Default: `default`.
  public static let queue = ConfigurationKey(
    "queue", defaultValue: "default", summary: "queue that enqueue puts jobs in")
  /// The prompt of `enqueue caption` when neither the manifest nor `--prompt` gives one.
  public static let captionPrompt = ConfigurationKey(
    "caption_prompt", defaultValue: "Describe this image in detail.",
    summary: "default prompt of enqueue caption")
  /// Attempts per job before it goes dead (a whole number, 1 or more). Default: 3.
  public static let maxAttempts = ConfigurationKey(
    "max_attempts", defaultValue: "3", summary: "attempts per enqueued job before it goes dead")
  /// Priority of enqueued jobs (a whole number; lower runs first). Default: 0.
  public static let priority = ConfigurationKey(
    "priority", defaultValue: "0", summary: "priority of enqueued jobs (lower runs first)")
  /// Colour and progress bars: `auto` (on a terminal), `always` or `never`. `NO_COLOR` means never.
  public static let color = ConfigurationKey(
    "color", defaultValue: "auto", summary: "colour and progress bars: auto, always or never")
  /// Seconds between `trolley top` refreshes (a number over 0). Default: 1.
  public static let topRefresh = ConfigurationKey(
    "top_refresh", defaultValue: "1", summary: "seconds between trolley top refreshes")

  /// Folders a worker may read local images from, separated by ':' (as PATH). Default: none, so
  /// jobs can name only http(s) images; `trolley worker --image-root DIR` overrides it.
  public static let imageRoots = ConfigurationKey(
    "image_roots", defaultValue: nil,
    summary: "folders workers read local images from (':'-separated)")

  /// The TroL checkpoint folder `trolley worker` loads; `--model` overrides it.
  public static let model = ConfigurationKey(
    "model", defaultValue: nil, summary: "checkpoint folder trolley worker loads")
  /// Most trol.* jobs a worker answers in one engine batch; `--batch-size` overrides it.
  public static let batchSize = ConfigurationKey(
    "batch_size", defaultValue: "1", summary: "trol.* jobs a worker answers in one engine batch")
  /// Queues a worker claims from (comma-separated); `--queues` overrides it. Not `queue`, which
  /// is where enqueue puts jobs.
  public static let workerQueues = ConfigurationKey(
    "queues", defaultValue: "default",
    summary: "queues trolley worker claims from (comma-separated)")
  /// Job kinds a worker runs (comma-separated); `--kinds` overrides it. Unset: the TroL kinds
  /// when a model is given.
  public static let workerKinds = ConfigurationKey(
    "kinds", defaultValue: nil, summary: "job kinds trolley worker runs (comma-separated)")
  /// The IPv4 address a worker serves metrics on; `--metrics-address` overrides it.
  public static let metricsAddress = ConfigurationKey(
    "metrics_address", defaultValue: "127.0.0.1",
    summary: "address trolley worker serves metrics on")
  /// The port a worker serves metrics on; `--metrics-port` overrides it. Unset: no metrics.
  public static let metricsPort = ConfigurationKey(
    "metrics_port", defaultValue: nil,
    summary: "port trolley worker serves metrics on (unset: none)")

  /// Every key, in the order `trolley config` prints them.
  public static let all: [ConfigurationKey] = [
    databaseURL, queue, captionPrompt, maxAttempts, priority, color, topRefresh, imageRoots,
    model, batchSize, workerQueues, workerKinds, metricsAddress, metricsPort,
  ]

  /// The key named `name` in a configuration file.
  public static func named(_ name: String) -> ConfigurationKey? { all.first { $0.name == name } }
}
