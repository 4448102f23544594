import ArgumentParser
import BuildInfo

@main
struct Trolley: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trolley",
    abstract:
      "Run the TroL vision-language model over image collections, with PostgreSQL as the queue.",
    version: TrolleyBuild.description,
    subcommands: [
      Enqueue.self, Batches.self, Batch.self, Top.self, Jobs.self, Export.self, Queues.self,
      Prune.self, Config.self, Migrate.self, DB.self, Bench.self, Tokenize.self, Ask.self,
      Model.self, Images.self, Worker.self, Workers.self, Dataset.self, Train.self, Manual.self,
    ]
  )
}
