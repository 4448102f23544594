import ArgumentParser
import Foundation
import JobQueue
import Postgres

/// `trolley db start|stop|status|url`: the embedded PostgreSQL cluster under `$TROLLEY_HOME`.
struct DB: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "db",
    abstract: "Manage the embedded PostgreSQL database under $TROLLEY_HOME.",
    discussion: """
      Used when no database is configured (TROLLEY_DATABASE_URL, DATABASE_URL and PGHOST unset); \
      other commands start it on demand. It listens on a Unix socket only.

      Two roles: trolley, the superuser that owns the schema (migrate, prune, operator \
      commands), and trolley_worker, created by `trolley migrate`, which can claim, heartbeat, \
      acknowledge and enqueue jobs but cannot change the schema. Run workers as the latter: \
      TROLLEY_DATABASE_URL=$(trolley db url --worker) trolley worker ...
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

    @Flag(help: "The URI of the least-privileged worker role (trolley_worker), not the owner's.")
    var worker = false

    func run() throws {
      let url = try DB.cluster().url()
      guard worker else {
        print(url)
        return
      }
      // The owner's URI names user=trolley last; the worker role is the same with its name.
      let owner = "user=\(LocalCluster.superuser)"
      guard url.hasSuffix(owner) else { throw ValidationError("unexpected embedded URI \(url)") }
      print(url.dropLast(owner.count) + "user=\(JobStore.workerRole)")
    }
  }
}
