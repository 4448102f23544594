public import TrolleyBasics

/// The file formats `trolley export` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
  /// One JSON object per line (RFC 8259 text, UTF-8, `\n` line ends).
  case jsonl
  /// RFC 4180 CSV with a header row, CRLF line ends, UTF-8.
  case csv

  /// File extensions (lowercased, without the dot) that name each format.
  public var extensions: [String] {
    switch self {
    case .jsonl: ["jsonl", "ndjson"]
    case .csv: ["csv"]
    }
  }

  /// What to run instead for formats people ask for that export does not write.
  static let conversions: [String: String] = [
    "parquet":
      "Parquet is not written directly; export JSON Lines and convert it, e.g. with DuckDB: "
      + "duckdb -c \"COPY (SELECT * FROM read_json_auto('answers.jsonl')) TO 'answers.parquet'\"",
    "json":
      "a .json file would suggest one JSON document, but export writes one object per line; "
      + "use --out FILE.jsonl (or pipe to `jq -s .` for a single array)",
    "tsv": "use --format csv, or convert the CSV with your tool of choice",
  ]

  /// The format for `--format` and `--out`: `--format` when given, else `--out`'s extension,
  /// else JSON Lines. An extension export does not write is a usage error (exit 2) naming the
  /// formats, never a silent JSONL file under a misleading name.
  /// - Throws: `CLIError.invalidArgument` for an unknown `--format` or `--out` extension.
  public static func choose(format: String?, out: String?) throws(CLIError) -> ExportFormat {
    let names = allCases.map(\.rawValue).joined(separator: " or ")
    if let format {
      let name = format.lowercased()
      if let chosen = ExportFormat(rawValue: name)
        ?? allCases.first(where: {
          $0.extensions.contains(name)
        })
      {
        return chosen
      }
      let advice = conversions[name].map { " " + $0 + "." } ?? ""
      throw CLIError(
        .invalidArgument,
        "--format \"\(format)\" is not supported: export writes \(names).\(advice)")
    }
    guard let out, out != "-" else { return .jsonl }
    let name = out.split(separator: "/").last.map(String.init) ?? out
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return .jsonl }
    let ext = name[name.index(after: dot)...].lowercased()
    if let chosen = allCases.first(where: { $0.extensions.contains(ext) }) { return chosen }
    let advice = conversions[ext].map { " " + $0 + "." } ?? ""
    throw CLIError(
      .invalidArgument,
      "--out \(out): export does not write .\(ext) files; it writes \(names) "
        + "(.jsonl/.ndjson or .csv, or pass --format).\(advice)")
  }
}
