import CLibPQ

extension PostgresConnection {
  /// Runs `body` in a transaction: commits if it returns, rolls back if it throws. Nested calls
  /// use savepoints, so an inner failure rolls back only the inner part.
  ///
  /// - Parameters:
  ///   - isolation: the outermost transaction's isolation level (ignored when nested); nil is the
  ///     server default (read committed).
  ///   - body: the work; it receives this connection.
  /// - Returns: what `body` returns.
  /// - Throws: what `body` throws (after rolling back), or a `PostgresError` from BEGIN/COMMIT.
  ///   A COMMIT that the server turned into a rollback (because a statement in the transaction
  ///   failed and the error was swallowed) throws `.server` with SQLSTATE 25P02.
  public func withTransaction<T>(
    isolation: PostgresIsolationLevel? = nil, _ body: (PostgresConnection) throws -> T
  ) throws -> T {
    let depth = transactionDepth
    let savepoint = "trolley_savepoint_\(depth)"
    if depth == 0 {
      try execute(isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN")
    } else {
      try execute("SAVEPOINT \(savepoint)")
    }
    transactionDepth = depth + 1
    let value: T
    do {
      value = try body(self)
    } catch {
      rollBack(depth: depth, savepoint: savepoint)
      throw error
    }
    // COMMIT must reach the session that ran the transaction, so no reconnecting here.
    defer { transactionDepth = depth }
    if depth == 0 {
      let rows = try executeWithoutReconnecting("COMMIT")
      if rows.commandTag == "ROLLBACK" {
        throw PostgresError(
          .server, "The transaction was rolled back at COMMIT because a statement in it had failed",
          sqlState: "25P02")
      }
    } else {
      _ = try executeWithoutReconnecting("RELEASE SAVEPOINT \(savepoint)")
    }
    return value
  }

  private func rollBack(depth: Int, savepoint: String) {
    defer { transactionDepth = depth }
    guard PQstatus(handle) == CONNECTION_OK else {
      // The server already rolled back; the body saw the `.connectionLost` error.
      lastTransactionStatus = PQTRANS_IDLE
      return
    }
    if depth == 0 {
      _ = try? executeWithoutReconnecting("ROLLBACK")
    } else {
      _ = try? executeWithoutReconnecting("ROLLBACK TO SAVEPOINT \(savepoint)")
      _ = try? executeWithoutReconnecting("RELEASE SAVEPOINT \(savepoint)")
    }
  }
}
