import ArgumentParser
import Foundation
import Postgres

/// `trolley db start|stop|status|url`: the embedded PostgreSQL cluster under `$TROLLEY_HOME`.
struct DB: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "db",
    abstract: "Manage the embedded PostgreSQL database under $TROLLEY_HOME.",
    discussion: """
      Used when no database is configured (TROLLEY_DATABASE_URL, DATABASE_URL and PGHOST unset); \
      other commands start it on demand. It listens on a Unix socket only.
      """,
    subcommands: [Start.self, Stop.self, Status.self, URL.self])

  static func cluster() -> LocalCluster { LocalCluster(home: LocalCluster.defaultHome()) }

  struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create the embedded database if needed and start it.")

    func run() throws {
      let cluster = DB.cluster()
      try cluster.start()
      let status = try cluster.status()
      print("running  pid \(status.pid.map(String.init) ?? "?")  \(status.url ?? "")")
    }
  }

  struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the embedded database.")

    func run() throws {
      print(try DB.cluster().stop() ? "stopped" : "not running")
    }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show whether the embedded database exists and runs, and where it lives.")

    func run() throws {
      let cluster = DB.cluster()
      let status = try cluster.status()
      guard status.exists else {
        print("not created (home \(cluster.home.path)); `trolley db start` creates it")
        throw ExitCode(3)
      }
      print(
        "state:     \(status.isRunning ? "running (pid \(status.pid.map(String.init) ?? "?"))" : "stopped")"
      )
      print("url:       \(status.url ?? "")")
      print("data:      \(status.dataDirectory ?? "")")
      print("socket:    \(status.socketDirectory ?? "")")
      print("log:       \(status.logFile ?? "")")
      if !status.isRunning { throw ExitCode(3) }
    }
  }

  struct URL: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Print the embedded database's connection URI (for psql, TROLLEY_DATABASE_URL, ...).")

    func run() throws {
      print(try DB.cluster().url())
    }
  }
}
