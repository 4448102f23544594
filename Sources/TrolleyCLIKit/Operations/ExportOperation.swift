public import JobQueue
import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// What `trolley export` was asked to write.
public struct ExportRequest: Sendable {
  public var batch: BatchRecord
  /// nil: every state.
  public var states: [JobState]?
  public var format: ExportFormat
  /// nil or "-": standard output.
  public var outPath: String?

  public init(batch: BatchRecord, states: [JobState]?, format: ExportFormat, outPath: String?) {
    self.batch = batch
    self.states = states
    self.format = format
    self.outPath = outPath
  }
}

/// What an export wrote.
public struct ExportReport: Sendable, Equatable {
  public var records: Int
  public var bytes: Int
  /// The file written, or nil for standard output.
  public var destination: String?
}

/// Streams a batch's jobs from COPY TO into JSONL or CSV, one record per job, in constant memory.
public enum ExportOperation {
  /// How many jobs an export of `request` will write, from the batch's counters (no scan).
  public static func expectedRecords(_ request: ExportRequest, store: JobStore) async throws
    -> Int64
  {
    let counts = try await store.batchProgress(BatchProgressParams(batchID: request.batch.id))
      .counts
    guard let states = request.states else { return counts.values.reduce(0, +) }
    return states.reduce(0) { $0 + (counts[$1] ?? 0) }
  }

  /// Writes the export; a file appears only when complete.
  /// - Throws: `CLIError` (output), `PostgresError`.
  /// - Parameter progress: Told the number of records written after each one.
  public static func run(
    _ request: ExportRequest, store: JobStore, progress: (@Sendable (Int64) -> Void)? = nil
  ) async throws -> ExportReport {
    try await store.client.withConnection { connection in
      let output = try OutputFile(path: request.outPath)
      var writer = RecordWriter(format: request.format, output: output)
      try writer.begin()
      var records = 0
      do {
        _ = try store.jobExport(
          JobExportParams(batchID: request.batch.id, states: request.states), on: connection
        ) { chunk in
          let row = chunk.bindMemory(to: UInt8.self)
          let line = UnsafeBufferPointer(
            rebasing: row[..<(row.last == 0x0A ? row.count - 1 : row.count)])
          guard let unescaped = CopyTextDecoder.unescape(line) else { return }
          let job = try unescaped.withUnsafeBufferPointer { buffer in
            do throws(JSONParser.Failure) {
              return try JSONParser.parse(bytes: buffer)
            } catch {
              throw CLIError(
                .io, "the database sent an export row that is not JSON: \(error.reason)")
            }
          }
          try writer.write(ExportRecord(job: job, batchName: request.batch.name))
          records += 1
          progress?(Int64(records))
        }
        try output.commit()
      } catch {
        output.abort()
        throw error
      }
      return ExportReport(
        records: records, bytes: output.byteCount, destination: output.destination)
    }
  }
}

extension ExportRecord {
  /// Maps the queue's generic job JSON (`id`, `kind`, `state`, `attempt`, `payload`, `result`,
  /// `error`, `finished_at`) to the export columns, using the answer/caption payload and result
  /// conventions in docs/cli.md.
  public init(job: JSONValue, batchName: String) {
    let payload = job["payload"] ?? .null
    let result = job["result"] ?? .null
    let state = job["state"] ?? .null
    let succeeded = state == .string("succeeded")
    var values = [JSONValue](repeating: .null, count: Self.columns.count)
    func set(_ column: String, _ value: JSONValue?) {
      if let index = Self.columns.firstIndex(of: column), let value { values[index] = value }
    }
    set("job_id", job["id"])
    set("input_id", payload["id"])
    set("batch", .string(batchName))
    set("kind", job["kind"])
    set("state", state)
    set("image", payload["image"])
    set("question", payload["question"] ?? payload["prompt"])
    set("answer", result["answer"] ?? result["caption"])
    set("error", succeeded ? nil : job["error"])
    set("model", result["model"])
    // What produced the answer: model identity, weights, generation settings, Trolley build.
    set("provenance", result["provenance"])
    set("attempts", job["attempt"])
    set("timings", result["timings"])
    set("metadata", payload["metadata"])
    set("finished_at", job["finished_at"])
    self.init(values: values)
  }
}
