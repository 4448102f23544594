import ArgumentParser
import Foundation
import Postgres
import TrolleyCLIKit

/// `--database-url`, shared by every command that talks to the database, and the rule that picks
/// the database: `--database-url`, then `TROLLEY_DATABASE_URL`, `DATABASE_URL`, the configuration
/// file's `database_url`, then the `PG*` variables when `PGHOST` is set, and otherwise the
/// embedded cluster under `$TROLLEY_HOME` (created and started on demand).
struct DatabaseOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "PostgreSQL URI or key=value string. Default: $TROLLEY_DATABASE_URL, $DATABASE_URL, "
        + "database_url in the configuration file, the PG* variables, else the embedded database.",
      valueName: "uri"))
  var databaseURL: String?

  /// The database to use; starts the embedded cluster when nothing else is configured.
  /// - Parameter configFile: the `--config` file, if the command has that option.
  func resolve(configFile: String? = nil) throws -> PostgresConfiguration {
    try resolveWithOrigin(configFile: configFile).configuration
  }

  /// The database to use, and whether it is the embedded cluster.
  func resolveWithOrigin(configFile: String? = nil) throws -> (
    configuration: PostgresConfiguration, embedded: Bool
  ) {
    let environment = ProcessInfo.processInfo.environment
    var flags: [ConfigurationKey: (flag: String, value: String)] = [:]
    if let databaseURL { flags[.databaseURL] = ("--database-url", databaseURL) }
    let configuration = try Configuration.resolve(
      flags: flags, environment: environment, configFile: configFile)
    if let url = configuration.settings.first(where: { $0.key == .databaseURL })?.value,
      !url.isEmpty
    {
      return (PostgresConfiguration(url), false)
    }
    if let fromEnvironment = PostgresConfiguration.fromEnvironment(environment) {
      return (fromEnvironment, false)
    }
    return (try LocalCluster(home: LocalCluster.defaultHome(environment)).start(), true)
  }
}
