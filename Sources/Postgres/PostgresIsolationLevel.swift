/// A transaction isolation level for `withTransaction(isolation:_:)`.
public enum PostgresIsolationLevel: String, Sendable, CaseIterable {
  case readCommitted = "READ COMMITTED"
  case repeatableRead = "REPEATABLE READ"
  case serializable = "SERIALIZABLE"
}
