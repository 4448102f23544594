import Foundation
import JobQueue
import Postgres
import TrolleyCLIKit
import TrolleyJobContracts

/// What every operator command needs: the effective configuration and a way to reach the queue.
struct OperatorContext {
  let configuration: Configuration
  let environment: [String: String]
  private let config: ConfigOptions
  private let database: DatabaseOptions

  init(
    config: ConfigOptions, database: DatabaseOptions,
    flags: [ConfigurationKey: (flag: String, value: String)] = [:]
  ) throws {
    environment = ProcessInfo.processInfo.environment
    configuration = try config.load(flags: flags)
    self.config = config
    self.database = database
  }

  /// The queue, over a small connection pool (the embedded database when none is configured).
  func store() throws -> JobStore {
    let postgres = try database.resolve(configFile: config.file)
    return JobStore(client: PostgresClient(configuration: postgres, maximumConnections: 2))
  }

  /// True when output goes to a terminal and colour/bars are not turned off.
  var richOutput: Bool {
    switch configuration.value(.color) {
    case "always": true
    case "never": false
    default: Terminal.isTerminal(1)
    }
  }

  /// The terminal width, or 80 when output is not a terminal.
  var width: Int { Terminal.size(1)?.columns ?? 80 }
}

/// Prints a JSON value as one line on standard output.
func printJSON(_ value: JSONValue) {
  print(value.text)
}

/// Prints a line on standard error.
func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
