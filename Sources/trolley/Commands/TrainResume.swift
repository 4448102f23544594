import ArgumentParser
import TrolleyWorkers

/// `trolley train resume`: puts a stopped run's failed and cancelled jobs back in play.
struct TrainResume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume",
    abstract:
      "Resume a stopped run from its last merge: dead jobs retried, cancelled ones waiting again.",
    discussion: """
      After a shard failed permanently (for example a corrupt data file, now fixed), its merge and \
      the later rounds were cancelled. Resume retries the dead jobs with fresh budgets and makes \
      the cancelled ones wait for their dependencies again; finished rounds are kept.
      """)

  @Argument(help: "The run's name.") var run: String
  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let runs = TrainingRuns(store: try options.context().store())
    let moved = try await runs.resume(try await runs.run(run))
    print("resumed \(run): \(moved) jobs back in play")
  }
}
