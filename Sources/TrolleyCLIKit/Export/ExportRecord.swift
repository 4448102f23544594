public import TrolleyBasics
public import TrolleyJobContracts

/// One exported job, decoded from the JSON object the export query produces per job.
public struct ExportRecord: Sendable, Equatable {
  /// Column names, in output order, for both JSONL keys and the CSV header.
  public static let columns = [
    "job_id", "input_id", "batch", "kind", "state", "image", "question", "answer", "error",
    "model", "provenance", "attempts", "timings", "metadata", "finished_at",
  ]

  /// Values by column, in `columns` order (null where a job has none).
  public var values: [JSONValue]

  public init(values: [JSONValue]) {
    precondition(values.count == Self.columns.count, "one value per export column")
    self.values = values
  }

  /// Picks the export columns out of a JSON object; missing keys become null.
  /// - Throws: `CLIError.io` if `object` is not a JSON object.
  public init(object: JSONValue) throws(CLIError) {
    guard case .object(let members) = object else {
      throw CLIError(.io, "the database returned an export row that is not a JSON object.")
    }
    var values = [JSONValue](repeating: .null, count: Self.columns.count)
    for member in members {
      if let index = Self.columns.firstIndex(of: member.key) { values[index] = member.value }
    }
    self.values = values
  }

  /// The value of `column`.
  public subscript(column: String) -> JSONValue {
    guard let index = Self.columns.firstIndex(of: column) else { return .null }
    return values[index]
  }
}
