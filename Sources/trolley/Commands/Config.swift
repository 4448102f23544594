import ArgumentParser
import Foundation
import TrolleyCLIKit

/// `trolley config`: the effective configuration and where each value comes from.
struct Config: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the effective configuration, its sources, and secrets masked.",
    discussion: """
      Settings come from flags, then environment variables, then the configuration file, then \
      built-in defaults. Passwords in database URLs are shown as ****.

      Example:
        trolley config
        TROLLEY_QUEUE=bulk trolley config --json
      """)

  @OptionGroup var config: ConfigOptions

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func run() throws {
    let configuration = try config.load()
    let environment = ProcessInfo.processInfo.environment
    print(
      json
        ? ConfigurationReport.json(configuration, environment: environment)
        : ConfigurationReport.text(configuration, environment: environment),
      terminator: "")
  }
}
