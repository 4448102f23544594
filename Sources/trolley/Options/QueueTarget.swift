import ArgumentParser
import JobQueue

/// What `trolley queues pause` and `trolley queues resume` take: the queue's name and the
/// operator options.
struct QueueTarget: ParsableArguments {
  @Argument(help: ArgumentHelp("The queue's name.", valueName: "name"))
  var name: String

  @OptionGroup var options: OperatorOptions

  /// The configuration of `trolley queues <verb>`: its one-line help and the one example.
  static func command(_ verb: String, abstract: String) -> CommandConfiguration {
    CommandConfiguration(
      commandName: verb, abstract: abstract,
      discussion: """
        Example:
          trolley queues \(verb) default
        """)
  }
}
