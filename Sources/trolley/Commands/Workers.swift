import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley workers`: registered worker processes, their jobs and their recent throughput.
struct Workers: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List worker processes: host, pid, jobs held, jobs per minute, heartbeat age.",
    discussion: """
      Shows active and stale workers (stopped ones are left out). JOBS/MIN counts the attempts \
      each worker ended (succeeded, failed or cancelled) over the last 5 minutes, or since it \
      started if that is later.

      Examples:
        trolley workers
        trolley workers --json
      """)

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let workers = try await WorkerOperations.list(store: try options.store())
    options.show(
      .array(workers.map(WorkerOperations.json)), text: WorkerOperations.table(workers))
  }
}
