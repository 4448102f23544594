import ArgumentParser
import Foundation
import TrolleyCLIKit

/// `--config FILE`, shared by every command that reads settings (see `trolley config`).
struct ConfigOptions: ParsableArguments {
  @Option(
    name: .customLong("config"),
    help: ArgumentHelp(
      "Configuration file (key = value lines). Default: $TROLLEY_CONFIG, then "
        + "$TROLLEY_HOME/config.toml, then /etc/trolley/config.toml.",
      valueName: "file"))
  var file: String?

  /// Resolves the effective configuration, with `flags` given on this command line.
  func load(flags: [ConfigurationKey: (flag: String, value: String)] = [:]) throws -> Configuration
  {
    try Configuration.resolve(
      flags: flags, environment: ProcessInfo.processInfo.environment, configFile: file)
  }
}
