/// Renders batches for people: rich with bars on a terminal, one fact per line otherwise.
public enum BatchReport {
  /// The detailed view of one batch (`trolley batch show ID`).
  /// - Parameters:
  ///   - width: The terminal's width; used only when `terminal` is true.
  ///   - terminal: Progress bars and sparklines when true; `key: value` lines when false.
  public static func detail(_ batch: BatchSummary, width: Int, terminal: Bool) -> String {
    terminal ? richDetail(batch, width: max(40, width)) : plainDetail(batch)
  }

  private static func richDetail(_ batch: BatchSummary, width: Int) -> String {
    var lines: [String] = []
    var title = "Batch \(batch.id)"
    if let name = batch.name { title += "  \(DisplayWidth.singleLine(name))" }
    if let created = batch.createdAt { title += "  · created \(Formatting.timestamp(created))" }
    lines.append(DisplayWidth.truncate(title, to: width))
    let summary =
      " \(Formatting.percent(done: batch.finished, total: batch.total))  "
      + "\(Formatting.count(batch.finished)) / \(Formatting.count(batch.total)) finished"
    let barWidth = max(10, width - DisplayWidth.of(summary))
    lines.append(
      ProgressBar.render(fraction: batch.fractionFinished, width: barWidth, unicode: true) + summary
    )
    lines.append("")
    var table = Table(columns: [Table.Column("state"), Table.Column("jobs", alignRight: true)])
    for entry in batch.counts { table.append([entry.state, Formatting.count(entry.count)]) }
    lines.append(contentsOf: table.render(width: width).map { "  " + $0 })
    lines.append("")
    var rateLine = "Throughput: "
    if let perMinute = batch.perMinute {
      rateLine += "\(Formatting.rate(perMinute)) jobs/min"
    } else {
      rateLine += "-"
    }
    if !batch.recentPerMinute.isEmpty {
      rateLine +=
        "  last \(batch.recentPerMinute.count) min " + Formatting.sparkline(batch.recentPerMinute)
    }
    lines.append(DisplayWidth.truncate(rateLine, to: width))
    lines.append(etaLine(batch))
    if !batch.topErrors.isEmpty {
      lines.append("")
      lines.append("Most common errors:")
      let countWidth = batch.topErrors.map { Formatting.count($0.count).count }.max() ?? 1
      for error in batch.topErrors {
        let text =
          "  " + DisplayWidth.fit(Formatting.count(error.count), to: countWidth, alignRight: true)
          + "  " + DisplayWidth.singleLine(error.message)
        lines.append(DisplayWidth.truncate(text, to: width))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func etaLine(_ batch: BatchSummary) -> String {
    if batch.total == 0 { return "ETA: - (the batch has no jobs)" }
    if batch.finished >= batch.total { return "ETA: done" }
    if let eta = batch.etaSeconds { return "ETA: \(Formatting.duration(eta))" }
    return "ETA: unknown (no jobs finished in the last minutes)"
  }

  private static func plainDetail(_ batch: BatchSummary) -> String {
    var lines = ["batch: \(batch.id)"]
    if let name = batch.name { lines.append("name: \(DisplayWidth.singleLine(name))") }
    if let created = batch.createdAt { lines.append("created: \(Formatting.timestamp(created))") }
    lines.append("total: \(batch.total)")
    lines.append(
      "finished: \(batch.finished) (\(Formatting.percent(done: batch.finished, total: batch.total)))"
    )
    for entry in batch.counts { lines.append("\(entry.state): \(entry.count)") }
    lines.append("jobs_per_minute: " + (batch.perMinute.map(Formatting.rate) ?? "-"))
    if !batch.recentPerMinute.isEmpty {
      lines.append(
        "recent_per_minute: " + batch.recentPerMinute.map(Formatting.rate).joined(separator: " "))
    }
    lines.append(etaLine(batch).replacingFirst("ETA: ", with: "eta: "))
    for error in batch.topErrors {
      lines.append("error: \(error.count) \(DisplayWidth.singleLine(error.message))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The list of batches (`trolley batches`): one row each, with a bar column on a terminal.
  public static func list(_ batches: [BatchSummary], width: Int, terminal: Bool) -> String {
    if batches.isEmpty {
      return
        "No batches yet. Enqueue some work with: trolley enqueue answer --images DIR --question \"...\"\n"
    }
    var columns = [
      Table.Column("ID", alignRight: true), Table.Column("NAME", flexible: true),
      Table.Column("TOTAL", alignRight: true), Table.Column("DONE", alignRight: true),
    ]
    if terminal { columns.append(Table.Column("PROGRESS")) }
    columns += [
      Table.Column("RUN", alignRight: true), Table.Column("DEAD", alignRight: true),
      Table.Column("/MIN", alignRight: true), Table.Column("ETA", alignRight: true),
    ]
    var table = Table(columns: columns)
    for batch in batches {
      var cells = [
        batch.id, batch.name ?? "-", Formatting.count(batch.total),
        Formatting.percent(done: batch.finished, total: batch.total),
      ]
      if terminal {
        cells.append(ProgressBar.render(fraction: batch.fractionFinished, width: 12, unicode: true))
      }
      cells += [
        Formatting.count(batch.count("running")), Formatting.count(batch.count("dead")),
        batch.perMinute.map(Formatting.rate) ?? "-",
        batch.finished == batch.total && batch.total > 0
          ? "done" : (batch.etaSeconds.map(Formatting.duration) ?? "-"),
      ]
      table.append(cells)
    }
    return table.render(width: terminal ? width : nil).joined(separator: "\n") + "\n"
  }
}

extension String {
  func replacingFirst(_ target: String, with replacement: String) -> String {
    guard let range = firstRange(of: target) else { return self }
    return self[..<range.lowerBound] + replacement + self[range.upperBound...]
  }
}
