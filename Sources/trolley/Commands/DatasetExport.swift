import ArgumentParser
import Datasets
import Foundation
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley dataset export NAME --format webdataset|llava|jsonl|csv --out DIR|FILE`.
struct DatasetExport: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export a dataset's kept items: WebDataset shards (jobs), LLaVA JSON, JSONL or CSV.",
    discussion: """
      webdataset: enqueues one curate.shard job per --shard-size kept items (after any open \
      caption or answer jobs); workers write DIR/NAME-000000.tar (original bytes, .json, .txt), \
      its NAME-000000_stats.json, and sizes.json. DIR must be reachable by the workers and the \
      sources readable under their --image-root. Re-exporting writes byte-identical tars.

      llava: writes DIR/llava.json (or the FILE.json given) and copies each kept image to \
      images/KEY.EXT beside it: one record per answered question and per caption, with \
      "conversations" of a human turn ("<image>\\n" + question or caption prompt) and a gpt turn. \
      `trolley train start --data DIR/llava.json` reads it.

      jsonl, csv: one row per kept item with every field (hashes as 16 hex digits, answers and \
      metadata as JSON), to FILE or DIR/NAME.jsonl|csv.

      Examples:
        trolley dataset export photos --format webdataset --out /data/shards/photos
        trolley worker --kinds curate.shard --image-root /data/photos
        trolley dataset export vqa --format llava --out ./vqa-llava
        trolley dataset export photos --format jsonl --out photos.jsonl --json
        trolley dataset export photos --format csv --out photos.csv
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case webdataset, llava, jsonl, csv
  }

  @OptionGroup var dataset: DatasetName

  @Option(help: "webdataset, llava, jsonl or csv.")
  var format: Format

  @Option(help: "The folder (webdataset, llava) or file (llava .json, jsonl, csv) to write.")
  var out: String

  @Option(help: "Samples per WebDataset shard (default 10000).")
  var shardSize = 10_000

  @OptionGroup var jobs: DatasetJobOptions

  func run() async throws {
    try await jobs.withPlanner { store, planner in
      do {
        try await export(store: store, planner: planner)
      } catch let error as CLIError {
        throw ValidationError(error.message)
      }
    }
  }

  private func export(store: DatasetStore, planner: DatasetPlanner) async throws {
    let record = try await store.datasetGet(name: dataset.name)
    let target = URL(fileURLWithPath: out).standardizedFileURL.path
    switch format {
    case .webdataset:
      try FileManager.default.createDirectory(
        atPath: target, withIntermediateDirectories: true)
      let plan = try await planner.shards(dataset: dataset.name, out: target, shardSize: shardSize)
      try jobs.options.show(plan) {
        "\(plan.dataset): \(plan.samples) samples in \(plan.shards) curate.shard jobs "
          + "writing \(plan.out)"
          + (plan.waitsFor > 0 ? ", after \(plan.waitsFor) open caption/answer jobs" : "")
      }
    case .llava, .jsonl, .csv:
      let open = try await store.jobsOpenCount(
        datasetID: record.id, stages: ["ingest", "dedupe", "caption"])
      guard open == 0 else {
        throw ValidationError(
          "\(open) ingest, dedupe, caption or answer jobs of \(dataset.name) are still open; let the "
            + "workers finish them (`trolley dataset show \(dataset.name)`) and export again")
      }
      let writer = DatasetFileExport(store: store, dataset: record)
      let report =
        format == .llava
        ? try await writer.llava(out: target)
        : try await writer.table(out: target, csv: format == .csv)
      try jobs.options.show(report) {
        "\(dataset.name): \(report.items) items, \(report.records) records written to \(report.path)"
          + (report.images.map { ", \($0) images in \(report.imageFolder ?? "")" } ?? "")
      }
    }
  }
}
