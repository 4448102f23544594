import ArgumentParser

/// `trolley images`: image utilities.
struct Images: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Image utilities (sample images for demos and smoke tests).",
    subcommands: [ImagesSynth.self])
}
