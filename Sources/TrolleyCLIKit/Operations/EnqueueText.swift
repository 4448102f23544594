/// How enqueue results read, for people and as JSON.
public enum EnqueueText {
  /// "Batch 3 (...): added 1,200 jobs, skipped 0 ..." plus the bad rows and the next command.
  public static func summary(_ report: EnqueueReport, source: ManifestSource) -> String {
    var lines = [
      "Batch \(report.batchID) (\(report.batchName)): added \(Formatting.count(Int64(report.added))) "
        + "jobs, skipped \(Formatting.count(Int64(report.skipped))) already enqueued."
    ]
    if report.badRows > 0 {
      lines.append(
        "Skipped \(Formatting.count(Int64(report.badRows))) bad \(source.rowNoun)"
          + (report.badRows == 1 ? "" : "s") + ":")
      for issue in report.issues {
        lines.append("  \(source.rowNoun) \(issue.line): \(DisplayWidth.singleLine(issue.message))")
      }
      if report.badRows > report.issues.count {
        lines.append(
          "  … and \(report.badRows - report.issues.count) more (use --strict to list them all and enqueue nothing)"
        )
      }
    }
    if report.added + report.skipped > 0 {
      lines.append("Watch it with: trolley batch show \(report.batchID)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The report as JSON.
  public static func json(_ report: EnqueueReport) -> JSONValue {
    .object([
      .init("batch_id", .number(String(report.batchID))), .init("batch", .string(report.batchName)),
      .init("added", .number(String(report.added))),
      .init("skipped", .number(String(report.skipped))),
      .init("bad_rows", .number(String(report.badRows))),
      .init(
        "issues",
        .array(
          report.issues.map {
            .object([
              .init("line", .number(String($0.line))), .init("message", .string($0.message)),
            ])
          })),
    ])
  }

  /// Why `--strict` refused the manifest, listing its bad rows.
  public static func strictRejection(_ issues: IssueList, source: ManifestSource) -> String {
    var lines = [
      "the manifest has \(issues.count) bad \(source.rowNoun)\(issues.count == 1 ? "" : "s"), so "
        + "nothing was enqueued (--strict):"
    ]
    for issue in issues.first {
      lines.append("  \(source.rowNoun) \(issue.line): \(DisplayWidth.singleLine(issue.message))")
    }
    if issues.count > issues.first.count {
      lines.append("  … and \(issues.count - issues.first.count) more")
    }
    lines.append("Fix these rows, or drop --strict to enqueue the good rows and skip the bad ones.")
    return lines.joined(separator: "\n")
  }

  /// Why an enqueue that found no usable row failed.
  public static func nothingToEnqueue(_ report: EnqueueReport, source: ManifestSource) -> String {
    if report.badRows > 0 {
      return "every row was bad, so nothing was enqueued. Fix the rows listed above."
    }
    switch source {
    case .folder(let path):
      return "\(path) holds no images (.jpg, .jpeg, .png, searched recursively). Check the folder."
    case .glob(let pattern):
      return
        "no file matches \(pattern). Check the pattern (quote it so the shell does not expand it)."
    case .jsonl(let path), .csv(let path):
      return "\(path) has no rows. Add one row per image."
    }
  }
}
