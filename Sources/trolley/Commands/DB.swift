import ArgumentParser
import Foundation
import JobQueue
import Postgres
import TrolleyCLIKit
import TrolleyJobContracts

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

      Examples:
        trolley db status
        trolley db stop
        psql "$(trolley db url)"
      """,
    subcommands: [Start.self, Stop.self, Status.self, URL.self])

  static func cluster() -> LocalCluster { LocalCluster(home: LocalCluster.defaultHome()) }

  /// The cluster's state as JSON (`db start`, `db status`, `db stop` with `--json`).
  static func json(_ status: LocalCluster.Status, home: String) -> JSONValue {
    func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    return .object([
      .init("exists", .bool(status.exists)),
      .init("running", .bool(status.isRunning)),
      .init("pid", status.pid.map { .number(String($0)) } ?? .null),
      .init("url", text(status.url)),
      .init("home", .string(home)),
      .init("data", text(status.dataDirectory)),
      .init("socket", text(status.socketDirectory)),
      .init("log", text(status.logFile)),
    ])
  }

  struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create the embedded database if needed and start it.",
      discussion: """
        Example:
          trolley db start && trolley migrate
        """)

    @Flag(help: "Print the state as JSON (exists, running, pid, url, home, data, socket, log).")
    var json = false

    func run() throws {
      let cluster = DB.cluster()
      try cluster.start()
      let status = try cluster.status()
      if json {
        printJSON(DB.json(status, home: cluster.home.path))
        return
      }
      print("running  pid \(status.pid.map(String.init) ?? "?")  \(status.url ?? "")")
    }
  }

  struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stop the embedded database.",
      discussion: """
        Example:
          trolley db stop    # any later command starts it again
        """)

    @Flag(help: "Print {\"stopped\": true|false} (false: it was not running).")
    var json = false

    func run() throws {
      let stopped = try DB.cluster().stop()
      if json {
        printJSON(.object([.init("stopped", .bool(stopped))]))
        return
      }
      print(stopped ? "stopped" : "not running")
    }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show whether the embedded database exists and runs, and where it lives.",
      discussion: """
        Exits 0 when it runs, 3 when it is stopped or not created (as `pg_ctl status` does).

        Examples:
          trolley db status
          trolley db status --json | jq -r .log
        """)

    @Flag(help: "Print the state as JSON (exists, running, pid, url, home, data, socket, log).")
    var json = false

    func run() throws {
      let cluster = DB.cluster()
      let status = try cluster.status()
      if json {
        printJSON(DB.json(status, home: cluster.home.path))
        if !status.isRunning { throw ExitCode(3) }
        return
      }
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
        "Print the embedded database's connection URI (for psql, TROLLEY_DATABASE_URL, ...).",
      discussion: """
        Examples:
          psql "$(trolley db url)"
          trolley db url --json
        """)

    @Flag(help: "Print {\"url\": \"...\"}.")
    var json = false

    @Flag(help: "The URI of the least-privileged worker role (trolley_worker), not the owner's.")
    var worker = false

    func run() throws {
      var url = try DB.cluster().url()
      if worker {
        // The owner's URI names user=trolley last; the worker role is the same with its name.
        let owner = "user=\(LocalCluster.superuser)"
        guard url.hasSuffix(owner) else { throw ValidationError("unexpected embedded URI \(url)") }
        url = String(url.dropLast(owner.count)) + "user=\(JobStore.workerRole)"
      }
      if json {
        printJSON(.object([.init("url", .string(url))]))
        return
      }
      print(url)
    }
  }
}
