import ArgumentParser
import Foundation
import TrolleyCLIKit

/// `trolley top`: a live full-screen view of queues, batches, workers and failures.
struct Top: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Watch queues, batches, workers and recent failures live (q or Ctrl-C quits).",
    discussion: """
      Refreshes every second (see --refresh). Needs a terminal of at least 40x10; 80x24 shows \
      every section. --once prints a single screen without taking over the terminal.

      Examples:
        trolley top
        trolley top --refresh 5
        trolley top --once
      """)

  @Option(
    help: ArgumentHelp(
      "Seconds between refreshes. Default: config top_refresh (1).", valueName: "seconds"))
  var refresh: Double?

  @Flag(help: "Print one screen and exit (for scripts and logs).")
  var once = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    var flags: [ConfigurationKey: (flag: String, value: String)] = [:]
    if let refresh { flags[.topRefresh] = ("--refresh", String(refresh)) }
    let context = try OperatorContext(config: config, database: database, flags: flags)
    let interval = try context.configuration.positiveNumber(.topRefresh) ?? 1
    let store = try context.store()
    if once {
      let size = Terminal.size(1) ?? (80, 24)
      let snapshot = try await TopSource.snapshot(store: store)
      print(
        TopScreen.render(snapshot, width: size.columns, height: size.rows).joined(separator: "\n"))
      return
    }
    let screen = try RawMode()
    defer { screen.restore() }
    var snapshot = try await TopSource.snapshot(store: store)
    while true {
      let size = Terminal.size(1) ?? (80, 24)
      Terminal.write(TopScreen.frame(snapshot, width: size.columns, height: size.rows))
      if RawMode.isQuit(screen.readKeys(timeout: interval)) { break }
      snapshot = try await TopSource.snapshot(store: store)
    }
  }
}
