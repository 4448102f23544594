public import TrolleyJobContracts

/// How enqueue results read, for people and as JSON.
public enum EnqueueText {
  /// "Batch 3 (...): added 1,200 jobs, skipped 0 ..." plus the bad rows and the next command.
  public static func summary(_ report: EnqueueReport, source: ManifestSource) -> String {
    let batch =
      report.batchID.map { "Batch \($0) (\(report.batchName))" } ?? "Batch \(report.batchName)"
    var lines: [String]
    if report.dryRun {
      lines = [
        "Dry run: would add \(Formatting.count(Int64(report.added))) jobs to "
          + (report.batchID == nil
            ? "a new batch \(report.batchName)" : batch.prefix(1).lowercased() + batch.dropFirst())
          + ", skip \(Formatting.count(Int64(report.skipped))) already enqueued. Nothing was changed."
      ]
      if !report.sample.isEmpty {
        lines.append("First rows:")
        for payload in report.sample { lines.append("  " + DisplayWidth.singleLine(payload)) }
      }
    } else {
      lines = [
        "\(batch): added \(Formatting.count(Int64(report.added))) "
          + "jobs, skipped \(Formatting.count(Int64(report.skipped))) already enqueued."
      ]
    }
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
    if report.skippedFiles.count > 0 {
      let files = report.skippedFiles
      lines.append(
        "Passed over \(Formatting.count(Int64(files.count))) file\(files.count == 1 ? "" : "s") "
          + "in the folder:")
      for file in files.first {
        lines.append("  \(DisplayWidth.singleLine(file.path)): \(file.reason)")
      }
      if files.count > files.first.count {
        lines.append("  … and \(files.count - files.first.count) more")
      }
    }
    if let id = report.batchID, !report.dryRun, report.added + report.skipped > 0 {
      lines.append("Watch it with: trolley batch show \(id)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The report as JSON.
  public static func json(_ report: EnqueueReport) -> JSONValue {
    .object([
      .init("batch_id", report.batchID.map { .number(String($0)) } ?? .null),
      .init("batch", .string(report.batchName)),
      .init("dry_run", .bool(report.dryRun)),
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
      .init("sample", .array(report.sample.map { .string($0) })),
      .init("skipped_files", .number(String(report.skippedFiles.count))),
      .init(
        "skipped_file_list",
        .array(
          report.skippedFiles.first.map {
            .object([.init("path", .string($0.path)), .init("reason", .string($0.reason))])
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
      return
        "\(path) holds no images (\(ImagePath.folderExtensions.sorted().map { "." + $0 }.joined(separator: ", ")), searched recursively). Check the folder."
    case .glob(let pattern):
      return
        "no file matches \(pattern). Check the pattern (quote it so the shell does not expand it)."
    case .jsonl(let path), .csv(let path), .tsv(let path), .paths(let path):
      return "\(path) has no rows. Add one row per image."
    }
  }
}
