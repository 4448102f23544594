import ArgumentParser
import Datasets
import Foundation
import TrolleyJobContracts

/// `trolley dataset caption NAME [--prompt TEXT] [--questions FILE] [--question Q]...`.
struct DatasetCaption: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "caption",
    abstract: "Enqueue trol.caption (and trol.answer) jobs for every kept item.",
    discussion: """
      Without questions, enqueues one trol.caption job per kept item that has no caption yet. \
      With --questions FILE (one question per line) or --question, enqueues one trol.answer job \
      per kept item and question it has no answer for (add --captions to caption as well). \
      Each payload names its dataset_item; the worker writes the caption or answer into the \
      item before acknowledging the job, and `dataset export` waits for these jobs. \
      Run after ingest and dedupe have finished. Running it again enqueues only what is missing.

      Examples:
        trolley dataset caption photos
        trolley dataset caption photos --prompt "Describe the scene in one sentence."
        trolley dataset caption photos --question "What colour is the shape?" --json
        trolley dataset caption photos --questions questions.txt --captions
        trolley worker --model models/trol-1.8b --image-root /data/photos
      """)

  @OptionGroup var dataset: DatasetName

  @Option(help: "The caption prompt (default: the worker's --caption-prompt).")
  var prompt: String?

  @Option(help: "A file with one question per line, asked of every kept item.")
  var questions: String?

  @Option(help: "A question asked of every kept item (repeatable).")
  var question: [String] = []

  @Flag(help: "Caption as well when questions are given.")
  var captions = false

  @OptionGroup var jobs: DatasetJobOptions

  func run() async throws {
    var asked = question
    if let questions {
      guard let text = try? String(contentsOfFile: questions, encoding: .utf8) else {
        throw ValidationError("cannot read --questions \(questions): expected a UTF-8 text file")
      }
      asked += text.split(whereSeparator: \.isNewline).map {
        $0.trimmingCharacters(in: .whitespaces)
      }.filter { !$0.isEmpty }
    }
    if asked.contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
      throw ValidationError("--question must not be empty")
    }
    if let questions, asked.isEmpty {
      throw ValidationError("--questions \(questions) holds no question (one per line)")
    }
    try await jobs.withPlanner { _, planner in
      let plan = try await planner.caption(
        dataset: dataset.name, captions: asked.isEmpty || captions || prompt != nil, prompt: prompt,
        questions: asked)
      try jobs.options.show(plan) {
        "\(plan.dataset): \(plan.captions) trol.caption and \(plan.answers) trol.answer jobs"
          + (plan.skipped > 0 ? " (\(plan.skipped) already queued)" : "")
      }
    }
  }
}
