import ArgumentParser

/// The dataset a `trolley dataset` command works on: its first argument.
struct DatasetName: ParsableArguments {
  @Argument(help: "The dataset's name.")
  var name: String
}
