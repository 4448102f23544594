import ArgumentParser
import Foundation
import JobQueue
import Migrations
import Postgres

/// `trolley migrate [--status]`: applies the numbered migrations shipped with this build.
struct Migrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply pending database migrations (or show their status).",
    discussion: """
      Each migration runs in its own transaction and is recorded in schema_migrations; an \
      advisory lock makes concurrent runs safe, and running it again does nothing.

      Two roles: the owner (the role migrate connects as) owns the schema; the worker role \
      (trolley_worker) can claim, heartbeat, acknowledge, enqueue and prune, but not change the \
      schema. On the embedded database migrate creates trolley_worker; elsewhere create it \
      yourself (CREATE ROLE trolley_worker LOGIN PASSWORD '...') and migrate grants it what \
      workers need. Workers connecting as it skip the reindex (it needs ownership) with a note.

      Example:
        trolley migrate
        trolley migrate --status    # exits 1 while migrations are pending
      """)

  @OptionGroup var database: DatabaseOptions

  @Flag(help: "List every migration and whether it is applied, without applying anything.")
  var status = false

  func run() throws {
    let migrator = try Migrator.bundled()
    let (configuration, embedded) = try database.resolveWithOrigin()
    let connection = try PostgresConnection(configuration: configuration)
    defer { connection.close() }
    if status {
      let statuses = try migrator.status(connection)
      if statuses.isEmpty { print("No migrations.") }
      for status in statuses { print(Self.line(status)) }
      let pending = statuses.filter { $0.state == .pending }.count
      print(pending == 0 ? "Up to date." : "\(pending) pending; run `trolley migrate`.")
      // Exit 1 when something is pending, so deploy scripts can check before starting workers.
      if pending > 0 { throw ExitCode.failure }
      return
    }
    let applied = try migrator.migrate(connection)
    for migration in applied { print("applied  \(migration.name)") }
    let role = try JobStore.workerRoleSetUp(create: embedded, on: connection)
    if role.created { print("created  role \(role.role) (for workers: no schema changes)") }
    if !role.granted {
      print(
        "note     no role \(role.role): workers connect as the owner. For least privilege: "
          + "CREATE ROLE \(role.role) LOGIN PASSWORD '...'; then run trolley migrate again.")
    }
    let latest = migrator.migrations.last.map { " (version \($0.version))" } ?? ""
    print(
      applied.isEmpty
        ? "Already up to date\(latest)."
        : "Applied \(applied.count) migration\(applied.count == 1 ? "" : "s"); up to date\(latest)."
    )
  }

  static func line(_ status: MigrationStatus) -> String {
    let state: String
    switch status.state {
    case .applied(let date): state = "applied   \(date.formatted(.iso8601))"
    case .pending: state = "pending"
    case .changed(let date):
      state = "CHANGED   \(date.formatted(.iso8601)) (file edited after it was applied)"
    case .unknown(let date): state = "unknown   \(date.formatted(.iso8601)) (not in this build)"
    }
    return "\(status.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(state)"
  }
}
