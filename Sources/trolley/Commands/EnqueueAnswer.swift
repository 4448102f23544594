import ArgumentParser
import TrolleyCLIKit

/// `trolley enqueue answer`: one question per image, from a folder, a glob or a manifest.
struct EnqueueAnswer: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "answer",
    abstract: "Enqueue a question about each image (job kind trol.answer).",
    discussion: """
      A manifest row may carry its own question (and an id and metadata); --question is used for \
      rows without one and for folders. Re-running the same enqueue adds nothing: each job has a \
      unique key (the manifest id, or a hash of the kind, image and question).

      Examples:
        trolley enqueue answer --images photos/ --question "What is in this picture?"
        trolley enqueue answer --images questions.csv --batch survey-1 --strict
        trolley enqueue answer --images 'shots/**/*.png' --question "Is it raining?" --json
      """)

  @OptionGroup var options: ImageEnqueueOptions

  @Option(help: ArgumentHelp("The question for rows without their own.", valueName: "text"))
  var question: String?

  func run() async throws {
    try await options.run(kind: .answer, text: question, textFlag: nil)
  }
}
