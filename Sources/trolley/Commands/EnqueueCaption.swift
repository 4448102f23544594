import ArgumentParser
import TrolleyCLIKit

/// `trolley enqueue caption`: one caption per image, from a folder, a glob or a manifest.
struct EnqueueCaption: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "caption",
    abstract: "Enqueue a caption for each image (job kind trol.caption).",
    discussion: """
      The prompt comes from the manifest row's "prompt", then --prompt, then the configured \
      caption_prompt (see trolley config).

      Examples:
        trolley enqueue caption --images photos/
        trolley enqueue caption --images list.jsonl --prompt "Describe the scene in one sentence."
      """)

  @OptionGroup var options: ImageEnqueueOptions

  @Option(
    help: ArgumentHelp(
      "The prompt for rows without their own. Default: config caption_prompt.", valueName: "text"))
  var prompt: String?

  func run() async throws {
    try await options.run(kind: .caption, text: prompt, textFlag: (.captionPrompt, "--prompt"))
  }
}
