import ArgumentParser
import Foundation
import Migrations
import Postgres

/// `trolley migrate [--status]`: applies the numbered migrations shipped with this build.
struct Migrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply pending database migrations (or show their status).",
    discussion: """
      Each migration runs in its own transaction and is recorded in schema_migrations; an \
      advisory lock makes concurrent runs safe, and running it again does nothing.

      Example:
        trolley migrate
        trolley migrate --status    # exits 1 while migrations are pending
      """)

  @OptionGroup var database: DatabaseOptions

  @Flag(help: "List every migration and whether it is applied, without applying anything.")
  var status = false

  func run() throws {
    let migrator = try Migrator.bundled()
    let connection = try PostgresConnection(configuration: try database.resolve())
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
