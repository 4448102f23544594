import CLibPQ

extension PostgresConnection {
  /// Runs `COPY ... FROM STDIN` and streams the rows `produce` writes, in chunks, in constant memory.
  ///
  /// ```swift
  /// try connection.copyFrom("COPY items (id, name) FROM STDIN") { writer in
  ///   for id in 0..<100_000 { try writer.writeRow([String(id), "item \(id)"]) }
  /// }
  /// ```
  /// - Parameters:
  ///   - sql: the COPY statement (fixed text: COPY takes no parameters).
  ///   - name: a name for errors.
  ///   - produce: writes the rows. If it throws, the COPY is aborted (nothing is inserted) and
  ///     the error is rethrown.
  /// - Returns: the number of rows the server copied.
  /// - Throws: `PostgresError` (`.server` with `sqlState` for bad data, `.copyFailed`), or what
  ///   `produce` throws.
  @discardableResult
  public func copyFrom(
    _ sql: String, name: String? = nil, _ produce: (inout PostgresCopyWriter) throws -> Void
  ) throws -> Int {
    try prepareForStatement()
    PQclear(try checked(PQexec(handle, sql), statement: name, accepted: [PGRES_COPY_IN]))
    var writer = PostgresCopyWriter(handle: handle)
    do {
      try produce(&writer)
      try writer.flush()
    } catch {
      // Abort: the server rolls the COPY back and answers with an error we drain and ignore.
      _ = PQputCopyEnd(handle, "COPY aborted by the client")
      drainResults()
      throw error
    }
    guard PQputCopyEnd(handle, nil) == 1 else {
      drainResults()
      throw PostgresError(
        .copyFailed, "Ending the COPY failed", serverMessage: Self.errorMessage(handle),
        statement: name)
    }
    return try finishCopy(statement: name)
  }

  /// Runs `COPY ... TO STDOUT` and hands each chunk (one row, for text and CSV) to `consume` as
  /// it arrives; nothing is accumulated.
  ///
  /// - Parameters:
  ///   - sql: the COPY statement, e.g. `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`.
  ///   - name: a name for errors.
  ///   - consume: receives each chunk; the bytes are only valid during the call. If it throws,
  ///     the COPY is cancelled and the error rethrown.
  /// - Returns: the number of rows the server sent.
  /// - Throws: `PostgresError`, or what `consume` throws.
  @discardableResult
  public func copyTo(
    _ sql: String, name: String? = nil, _ consume: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int {
    try prepareForStatement()
    PQclear(try checked(PQexec(handle, sql), statement: name, accepted: [PGRES_COPY_OUT]))
    var consumerError: (any Error)? = nil
    while true {
      var chunk: UnsafeMutablePointer<CChar>? = nil
      let length = PQgetCopyData(handle, &chunk, 0)
      if length == -1 { break }  // done; the final result follows
      if length == -2 {
        drainResults()
        throw PostgresError(
          .copyFailed, "Receiving COPY data failed", serverMessage: Self.errorMessage(handle),
          statement: name)
      }
      guard let chunk else { continue }
      defer { PQfreemem(chunk) }
      if consumerError != nil { continue }  // draining after a cancel
      do {
        try consume(UnsafeRawBufferPointer(start: chunk, count: Int(length)))
      } catch {
        consumerError = error
        cancelRunningStatement()
      }
    }
    if let consumerError {
      drainResults()
      throw consumerError
    }
    return try finishCopy(statement: name)
  }

  /// Reads the COPY's final result and returns its row count.
  private func finishCopy(statement: String?) throws -> Int {
    var rowCount = 0
    var failure: (any Error)? = nil
    while let result = PQgetResult(handle) {
      do {
        let checkedResult = try checked(result, statement: statement)
        let rows = PostgresRows(result: checkedResult, statement: statement)
        rowCount = rows.affectedRowCount
      } catch {
        if failure == nil { failure = error }
      }
    }
    if let failure { throw failure }
    return rowCount
  }

  /// Discards every pending result, leaving the connection ready for the next statement.
  func drainResults() {
    while let result = PQgetResult(handle) {
      let status = PQresultStatus(result)
      PQclear(result)
      // A COPY still in progress would loop forever: end it.
      if status == PGRES_COPY_IN { _ = PQputCopyEnd(handle, "COPY aborted by the client") }
      if status == PGRES_COPY_OUT { break }
    }
    let status = PQtransactionStatus(handle)
    if status != PQTRANS_UNKNOWN { lastTransactionStatus = status }
  }

  /// Asks the server to cancel the statement in progress (best effort).
  func cancelRunningStatement() {
    guard let cancel = PQgetCancel(handle) else { return }
    defer { PQfreeCancel(cancel) }
    var errorBuffer = [CChar](repeating: 0, count: 256)
    _ = PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count))
  }
}
