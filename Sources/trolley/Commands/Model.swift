import ArgumentParser

/// `trolley model`: work with TroL checkpoint folders.
struct Model: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Fetch, inspect or synthesize TroL checkpoint folders.",
    subcommands: [ModelFetch.self, ModelInspect.self, ModelSynth.self])
}
