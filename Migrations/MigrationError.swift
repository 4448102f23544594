import Postgres

/// A `PostgresError` with code `.migration`.
func MigrationError(_ message: String, file: String = #fileID, line: Int = #line) -> PostgresError {
  PostgresError(.migration, message, file: file, line: line)
}
