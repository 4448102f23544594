import ArgumentParser
import TroL

/// `trolley model inspect DIR`: what a checkpoint folder holds and what it needs to run.
struct ModelInspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract:
      "Print a model's family, dimensions, parameter counts by part, dtypes and memory needs.",
    discussion: """
      Reads config.json, the model.safetensors header and trol_gating.pt (the weights themselves \
      are not loaded). Memory is for the weights alone at f32, 16-bit, q8 (~1.06 bytes per \
      parameter) and q4 (~0.56 bytes per parameter).

      Example:
        trolley model inspect ~/models/TroL-1.8B
        trolley model inspect ~/models/TroL-3.8B --json
      """)

  @Argument(
    help: "The model folder (config.json, model.safetensors, trol_gating.pt, tokenizer files).")
  var directory: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() throws {
    let inspection = try ModelInspection(ModelDirectory(path: directory))
    print(json ? inspection.json : inspection.text, terminator: "")
  }
}
