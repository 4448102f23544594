import ArgumentParser

/// `trolley train`: TroL training on this machine and as queue jobs across workers.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train TroL (gradient checks, distributed DiLoCo runs as queue jobs, export).",
    subcommands: [
      TrainStart.self, TrainList.self, TrainShow.self, TrainExport.self, TrainResume.self,
      TrainGrad.self,
    ])
}
