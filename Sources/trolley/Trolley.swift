import ArgumentParser

@main
struct Trolley: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trolley",
    abstract:
      "Run the TroL vision-language model over image collections, with PostgreSQL as the queue.",
    version: "0.1.0",
    subcommands: [
      Enqueue.self, Batches.self, Batch.self, Top.self, Jobs.self, Export.self, Queues.self,
      Prune.self, Config.self, Migrate.self, DB.self, Bench.self, Tokenize.self, Ask.self,
      Model.self, Images.self, Worker.self, Workers.self, Train.self,
    ]
  )
}
