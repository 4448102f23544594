import ArgumentParser

/// `trolley model`: work with TroL checkpoint folders.
struct Model: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Inspect or synthesize TroL checkpoint folders.",
    subcommands: [ModelInspect.self, ModelSynth.self])
}
