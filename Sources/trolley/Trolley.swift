import ArgumentParser

@main
struct Trolley: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trolley",
    abstract:
      "Run the TroL vision-language model over image collections, with PostgreSQL as the queue.",
    version: "0.1.0",
    subcommands: [
      Config.self, Migrate.self, DB.self, Bench.self, Tokenize.self, Ask.self, Model.self,
      Images.self,
    ]
  )
}
