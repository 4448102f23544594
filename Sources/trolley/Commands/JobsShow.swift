import ArgumentParser
import JobQueue
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley jobs show`: everything about one job.
struct JobsShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show one job: state, attempts, payload, result, error and crash evidence.",
    discussion: """
      Examples:
        trolley jobs show 1234
        trolley jobs show 1234 --json
      """)

  @Argument(help: ArgumentHelp("The job's id.", valueName: "id"))
  var id: Int64

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let store = try options.store()
    guard let job = try await store.jobGet(id: id) else {
      throw CLIError(
        .notFound,
        "no job has the id \(id) (it may have been pruned). Find jobs with: trolley jobs list")
    }
    let crashes = try await store.jobCrashes(jobID: id)
    options.show(
      JobRendering.json(job, crashes: crashes), text: JobRendering.detail(job, crashes: crashes))
  }
}
