import Logging
import Postgres
import TrolleyWorkers

/// The in-process workers of the queue and dedupe benchmarks: real `WorkerLoop`s, each over a
/// client of its own (as separate worker processes would be), logging nothing.
enum BenchWorkers {
  static let logger = Logger(label: "trolley.bench", factory: { _ in SwiftLogNoOpLogHandler() })

  /// Runs `count` loops, each made by `loop` from a new client on `database`, until `wait`
  /// returns; then stops them and returns what `wait` returned.
  static func run<Value: Sendable>(
    count: Int, database: PostgresConfiguration,
    loop: @escaping @Sendable (PostgresClient) -> WorkerLoop,
    until wait: () async -> Value
  ) async -> Value {
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<count {
        group.addTask {
          let client = PostgresClient(configuration: database, maximumConnections: 3)
          defer { client.shutdown() }
          try? await loop(client).run()
        }
      }
      let value = await wait()
      group.cancelAll()
      return value
    }
  }
}
