import Foundation

/// Lays out a `TopSnapshot` for a terminal of a given size: exactly `height` lines, none wider
/// than `width` cells. Sections share the rows; a section that does not fit says how many rows
/// it hides. Pure, so tests check the screen without a terminal.
public enum TopScreen {
  /// The smallest size that shows something useful.
  public static let minimumSize = (columns: 40, rows: 10)

  /// The screen as lines (without escape sequences).
  public static func render(_ snapshot: TopSnapshot, width: Int, height: Int) -> [String] {
    guard width >= minimumSize.columns, height >= minimumSize.rows else {
      var lines = [
        "trolley top needs at least \(minimumSize.columns)x\(minimumSize.rows).", "q quits",
      ]
      lines = lines.map { DisplayWidth.fit($0, to: max(1, width)) }
      while lines.count < height { lines.append(String(repeating: " ", count: max(1, width))) }
      return Array(lines.prefix(max(0, height)))
    }
    var sections = [
      queueSection(snapshot, width: width), batchSection(snapshot, width: width),
      workerSection(snapshot, width: width), failureSection(snapshot, width: width),
    ]
    if !snapshot.trainingRuns.isEmpty {
      sections.insert(trainingSection(snapshot, width: width), at: 2)
    }
    if !snapshot.datasets.isEmpty { sections.insert(datasetSection(snapshot), at: 2) }
    let live = snapshot.workers.filter { !$0.stale }.count
    let title =
      "trolley top  \(Formatting.timestamp(snapshot.time))  "
      + "\(live) worker\(live == 1 ? "" : "s"), "
      + "\(Formatting.count(snapshot.queues.reduce(0) { $0 + $1.running })) running"
    var lines = [title]
    let footer = "q quit · refreshes every second"
    // Rows left after the title, the footer, and one title line plus one blank line per section.
    var budget = height - 2 - sections.count * 2
    var granted = sections.map { _ in 0 }
    // Hand out rows one at a time, round robin, so every section shows its first rows.
    var progress = true
    while budget > 0, progress {
      progress = false
      for index in sections.indices where budget > 0 && granted[index] < sections[index].rows.count
      {
        granted[index] += 1
        budget -= 1
        progress = true
      }
    }
    for (index, section) in sections.enumerated() {
      lines.append("")
      lines.append(section.title)
      var shown = Array(section.rows.prefix(granted[index]))
      if shown.count < section.rows.count, !shown.isEmpty {
        shown[shown.count - 1] = "  … \(section.rows.count - shown.count + 1) more"
      }
      lines.append(contentsOf: shown)
    }
    while lines.count < height - 1 { lines.append("") }
    lines = Array(lines.prefix(height - 1))
    lines.append(footer)
    return lines.map { DisplayWidth.fit(DisplayWidth.singleLine($0), to: width) }
  }

  /// The screen as one string that repaints a terminal in place, without flicker.
  public static func frame(_ snapshot: TopSnapshot, width: Int, height: Int) -> String {
    let lines = render(snapshot, width: width, height: height)
    var out = "\u{1B}[H"
    for (index, line) in lines.enumerated() {
      let isTitle = index == 0 || index == lines.count - 1
      out += isTitle ? "\u{1B}[7m" + line + "\u{1B}[0m" : line
      if index < lines.count - 1 { out += "\r\n" }
    }
    return out
  }

  /// The table's header row as the section title: the name moved left over the rows' indent,
  /// so the other column titles stay above their columns.
  private static func headerTitle(_ header: String, name: String) -> String {
    name + "  " + String(header.dropFirst(2 + name.count))
  }

  private struct Section {
    var title: String
    var rows: [String]
  }

  private static func queueSection(_ snapshot: TopSnapshot, width: Int) -> Section {
    var table = Table(columns: [
      Table.Column("Queues", flexible: true), Table.Column("STATE"),
      Table.Column("AVAILABLE", alignRight: true), Table.Column("RUNNING", alignRight: true),
      Table.Column("WAITING", alignRight: true),
    ])
    for queue in snapshot.queues {
      table.append([
        queue.name, queue.paused ? "paused" : "active", Formatting.count(queue.available),
        Formatting.count(queue.running), Formatting.count(queue.waiting),
      ])
    }
    let lines = table.render(width: width - 2).map { "  " + $0 }
    if snapshot.queues.isEmpty { return Section(title: "Queues", rows: ["  no queues yet"]) }
    return Section(title: headerTitle(lines[0], name: "Queues"), rows: Array(lines.dropFirst()))
  }

  private static func batchSection(_ snapshot: TopSnapshot, width: Int) -> Section {
    guard !snapshot.batches.isEmpty else {
      return Section(title: "Batches", rows: ["  no batches yet"])
    }
    // id, name, bar, percent, rate, eta; the bar takes what the other columns leave.
    let fixed = 2 + 6 + 1 + 14 + 1 + 1 + 6 + 1 + 8 + 1 + 8
    let barWidth = max(8, width - fixed)
    var rows: [String] = []
    for batch in snapshot.batches {
      let eta =
        batch.finished == batch.total && batch.total > 0
        ? "done" : (batch.etaSeconds.map(Formatting.duration) ?? "-")
      let row =
        "  " + DisplayWidth.fit(batch.id, to: 6, alignRight: true) + " "
        + DisplayWidth.fit(batch.name ?? "-", to: 14) + " "
        + ProgressBar.render(fraction: batch.fractionFinished, width: barWidth, unicode: true) + " "
        + DisplayWidth.fit(
          Formatting.percent(done: batch.finished, total: batch.total), to: 6, alignRight: true)
        + " "
        + DisplayWidth.fit(
          (batch.perMinute.map(Formatting.rate) ?? "-") + "/m", to: 8, alignRight: true)
        + " " + DisplayWidth.fit(eta, to: 8, alignRight: true)
      rows.append(row)
    }
    return Section(title: "Batches", rows: rows)
  }

  /// One line per dataset: each stage's jobs done/planned ("-" when not planned), then items by
  /// status.
  private static func datasetSection(_ snapshot: TopSnapshot) -> Section {
    var rows: [String] = []
    for dataset in snapshot.datasets {
      var text = "  " + dataset.name + "  " + Formatting.count(Int64(dataset.items)) + " items"
      for stage in dataset.stages {
        let value =
          stage.total == 0
          ? "-" : "\(stage.done)/\(stage.total)\(stage.failed > 0 ? " \(stage.failed)!" : "")"
        text += "  \(stage.name) \(value)"
      }
      text +=
        "  "
        + dataset.statuses.map { "\($0.status) \(Formatting.count(Int64($0.count)))" }
        .joined(separator: " ")
      rows.append(text)
    }
    return Section(title: "Datasets (jobs done/planned, items by status)", rows: rows)
  }

  private static func trainingSection(_ snapshot: TopSnapshot, width: Int) -> Section {
    var table = Table(columns: [
      Table.Column("Training", flexible: true), Table.Column("ROUND", alignRight: true),
      Table.Column("SHARDS", alignRight: true), Table.Column("LAST LOSS", alignRight: true),
      Table.Column("STATE"),
    ])
    for run in snapshot.trainingRuns {
      table.append([
        run.name, "\(min(run.round + 1, run.rounds))/\(run.rounds)",
        "\(run.shardsDone)/\(run.shards)",
        run.lastLoss.map { String(format: "%.4f", $0) } ?? "-",
        run.dead > 0 ? "failed (\(run.dead) dead)" : "running",
      ])
    }
    let lines = table.render(width: width - 2).map { "  " + $0 }
    return Section(title: headerTitle(lines[0], name: "Training"), rows: Array(lines.dropFirst()))
  }

  private static func workerSection(_ snapshot: TopSnapshot, width: Int) -> Section {
    guard !snapshot.workers.isEmpty else {
      return Section(title: "Workers", rows: ["  no workers; start one with: trolley worker"])
    }
    var table = Table(columns: [
      Table.Column("Workers", flexible: true), Table.Column("PID", alignRight: true),
      Table.Column("JOBS", alignRight: true), Table.Column("JOBS/MIN", alignRight: true),
      Table.Column("BEAT", alignRight: true), Table.Column("STATUS"),
    ])
    for worker in snapshot.workers {
      table.append([
        worker.host, String(worker.pid), "\(worker.currentJobs)/\(worker.capacity)",
        Formatting.rate(worker.jobsPerMinute), Formatting.duration(worker.heartbeatAgeSeconds),
        worker.stale ? "stale" : "ok",
      ])
    }
    let lines = table.render(width: width - 2).map { "  " + $0 }
    return Section(title: headerTitle(lines[0], name: "Workers"), rows: Array(lines.dropFirst()))
  }

  private static func failureSection(_ snapshot: TopSnapshot, width: Int) -> Section {
    guard !snapshot.failures.isEmpty else {
      return Section(title: "Recent failures", rows: ["  none"])
    }
    var rows: [String] = []
    for failure in snapshot.failures {
      let text =
        "  " + DisplayWidth.fit(String(failure.jobID), to: 8, alignRight: true) + " "
        + DisplayWidth.fit(
          Formatting.duration(failure.ageSeconds) + " ago", to: 9, alignRight: true)
        + " " + DisplayWidth.fit(failure.kind, to: 12) + " "
        + DisplayWidth.singleLine(failure.error)
      rows.append(DisplayWidth.truncate(text, to: width))
    }
    return Section(title: "Recent failures", rows: rows)
  }
}
