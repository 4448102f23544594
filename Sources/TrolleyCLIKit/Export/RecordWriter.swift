import TrolleyJobContracts

/// Formats export records as JSONL or CSV onto an `OutputFile`.
public struct RecordWriter {
  public let format: ExportFormat
  private let output: OutputFile
  private var wroteHeader = false
  private var line = ""

  public init(format: ExportFormat, output: OutputFile) {
    self.format = format
    self.output = output
    line.reserveCapacity(4096)
  }

  /// Writes the CSV header if the format has one and it is not written yet. Call it once even
  /// when there are no records, so that an empty CSV export still names its columns.
  public mutating func begin() throws(CLIError) {
    guard format == .csv, !wroteHeader else { return }
    wroteHeader = true
    line.removeAll(keepingCapacity: true)
    for (index, column) in ExportRecord.columns.enumerated() {
      if index > 0 { line += "," }
      CSVField.append(column, to: &line)
    }
    line += "\r\n"
    try output.write(line)
  }

  /// Writes one record.
  public mutating func write(_ record: ExportRecord) throws(CLIError) {
    try begin()
    line.removeAll(keepingCapacity: true)
    switch format {
    case .jsonl:
      line += "{"
      for (index, column) in ExportRecord.columns.enumerated() {
        if index > 0 { line += "," }
        line += "\""
        line += column
        line += "\":"
        JSONWriter.append(record.values[index], to: &line)
      }
      line += "}\n"
    case .csv:
      for index in record.values.indices {
        if index > 0 { line += "," }
        CSVField.append(record.values[index].plainText, to: &line)
      }
      line += "\r\n"
    }
    try output.write(line)
  }
}

/// RFC 4180 field quoting.
public enum CSVField {
  /// Appends `text`, in double quotes (with quotes doubled) when it holds a comma, quote, CR or LF,
  /// or starts or ends with a space (which some readers would trim).
  public static func append(_ text: String, to out: inout String) {
    var needsQuotes = false
    for unit in text.utf8 where unit == 0x2C || unit == 0x22 || unit == 0x0A || unit == 0x0D {
      needsQuotes = true
      break
    }
    if !needsQuotes, let first = text.utf8.first, let last = text.utf8.last {
      needsQuotes = first == 0x20 || last == 0x20
    }
    guard needsQuotes else {
      out += text
      return
    }
    out += "\""
    for character in text.unicodeScalars {
      if character == "\"" { out += "\"\"" } else { out.unicodeScalars.append(character) }
    }
    out += "\""
  }
}
