public import Postgres

/// Which jobs of a batch to export.
public struct JobExportParams: Sendable, Hashable {
  public var batchID: Int64
  /// Only these states; nil: every state.
  public var states: [JobState]?

  public init(batchID: Int64, states: [JobState]? = nil) {
    self.batchID = batchID
    self.states = states
  }
}

extension JobStore {
  static let jobExportSettingsSQL = """
    -- COPY takes no parameters, so the filter values travel as transaction-local settings that
    -- the COPY query reads back: still bound values, never SQL text built from input.
    SELECT set_config('trolley.export_batch', $1, true), set_config('trolley.export_states', $2, true)
    """

  static let jobExportCopySQL = """
    COPY (
      SELECT json_build_object(
        'id', id, 'kind', kind, 'state', state, 'attempt', attempt, 'payload', payload,
        'result', result, 'error', last_error, 'finished_at', finished_at)
      FROM jobs
      WHERE batch_id = current_setting('trolley.export_batch')::bigint
        AND (current_setting('trolley.export_states') = ''
             OR state::text = ANY(string_to_array(current_setting('trolley.export_states'), ',')))
      ORDER BY id
    ) TO STDOUT
    """

  /// Streams one JSON object per job of a batch (`id`, `kind`, `state`, `attempt`, `payload`,
  /// `result`, `error`, `finished_at`), in id order, through COPY: constant memory at any size.
  /// Each chunk passed to `consume` is one row in COPY text format (escaped, ending in `\n`).
  /// - Returns: the number of jobs exported.
  public func jobExport(
    _ params: JobExportParams, on connection: PostgresConnection,
    consume: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int {
    try connection.withTransaction(isolation: .repeatableRead) { connection in
      try connection.query(
        Self.jobExportSettingsSQL,
        [
          String(params.batchID),
          params.states.map { $0.map(\.rawValue).joined(separator: ",") } ?? "",
        ],
        name: "jobExportSettings")
      return try connection.copyTo(Self.jobExportCopySQL, name: "jobExport", consume)
    }
  }
}
