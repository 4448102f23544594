import ArgumentParser

/// `trolley train`: TroL training on this machine.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train TroL (gradient checks against the official goldens, local runs, export).",
    subcommands: [TrainGrad.self])
}
