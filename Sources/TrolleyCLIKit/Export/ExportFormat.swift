/// The file formats `trolley export` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
  /// One JSON object per line (RFC 8259 text, UTF-8, `\n` line ends).
  case jsonl
  /// RFC 4180 CSV with a header row, CRLF line ends, UTF-8.
  case csv
}
