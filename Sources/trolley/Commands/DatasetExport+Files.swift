import ArgumentParser
import Curation
import Datasets
import Digest
import Foundation
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// The exports `trolley dataset export` writes itself: LLaVA JSON with an images folder, JSONL
/// and CSV. Items are read 1,000 at a time by id, so memory does not grow with the dataset.
struct DatasetFileExport {
  let store: DatasetStore
  let dataset: DatasetRecord

  struct Report: Encodable {
    var dataset: String
    var format: String
    var path: String
    var items: Int
    var records: Int
    var images: Int?
    var imageFolder: String?

    enum CodingKeys: String, SnakeCaseCodingKey {
      case dataset, format, path, items, records, images, imageFolder
    }
  }

  /// Calls `body` with every kept item, by id.
  func forEachItem(_ body: (ExportedItem) throws -> Void) async throws {
    var after: Int64 = 0
    while true {
      let page = try await store.exportPage(datasetID: dataset.id, afterID: after, limit: 1000)
      guard let last = page.last else { return }
      for item in page { try body(item) }
      after = last.id
    }
  }

  /// LLaVA-1.5 JSON (one array) and `images/<key>.<ext>` beside it.
  func llava(out: String) async throws -> Report {
    let file = out.hasSuffix(".json") ? out : out + "/llava.json"
    let folder = ImagePath.directory(of: file)
    let images = folder + "/images"
    try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
    let output = try OutputFile(path: file)
    var counts = (items: 0, records: 0)
    do {
      try output.write("[")
      try await forEachItem { item in
        let image = "images/\(item.key).\(item.fileExtension)"
        let bytes = try Self.localBytes(item)
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + image), options: .atomic)
        counts.items += 1
        for (index, turn) in Self.turns(item).enumerated() {
          let record = JSONValue.object([
            .init("id", .string("\(item.key)-\(index)")),
            .init("image", .string(image)),
            .init(
              "conversations",
              .array([
                .object([.init("from", .string("human")), .init("value", .string(turn.human))]),
                .object([.init("from", .string("gpt")), .init("value", .string(turn.gpt))]),
              ])),
          ])
          try output.write((counts.records == 0 ? "\n" : ",\n") + record.text)
          counts.records += 1
        }
      }
      try output.write("\n]\n")
      try output.commit()
    } catch {
      output.abort()
      throw error
    }
    return Report(
      dataset: dataset.name, format: "llava", path: file, items: counts.items,
      records: counts.records, images: counts.items, imageFolder: images)
  }

  /// The item's conversations: each answered question, then the caption with its prompt.
  static func turns(_ item: ExportedItem) -> [(human: String, gpt: String)] {
    var turns = item.answers.compactMap { entry in
      entry.answer.map { (human: "<image>\n" + entry.question, gpt: $0) }
    }
    if let caption = item.caption {
      turns.append((human: "<image>\n" + item.captionPrompt, gpt: caption))
    }
    return turns
  }

  /// The item's bytes from its local file, checked against the sha256 recorded at ingest.
  static func localBytes(_ item: ExportedItem) throws -> [UInt8] {
    var path = item.source
    if path.hasPrefix("file://") { path = String(path.dropFirst(7)) }
    guard path.hasPrefix("/") else {
      throw ValidationError(
        "\(item.source) is not a local file; the LLaVA export copies local images only. Export "
          + "--format webdataset instead (workers fetch URLs)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("cannot read \(path) (item \(item.id)); is it still there?")
    }
    let bytes = [UInt8](data)
    guard SHA256.hex(bytes) == item.sha256 else {
      throw ValidationError(
        "\(path) changed since it was ingested (its sha256 differs); restore it or ingest again")
    }
    return bytes
  }

  /// The JSONL or CSV columns, in order.
  static let columns = [
    "id", "key", "source", "sha256", "width", "height", "format", "bytes", "ahash", "phash",
    "dhash", "whash", "group_id", "caption", "answers", "metadata",
  ]

  static func values(_ item: ExportedItem) -> [JSONValue] {
    let answers = JSONValue.array(
      item.answers.map { entry in
        .object(
          [.init("question", .string(entry.question))]
            + (entry.answer.map { [.init("answer", .string($0))] } ?? []))
      })
    return [
      .number(String(item.id)), .string(item.key), .string(item.source), .string(item.sha256),
      .number(String(item.width)), .number(String(item.height)), .string(item.format),
      .number(String(item.bytes)), .string(ExportedItem.hex(item.ahash)),
      .string(ExportedItem.hex(item.phash)), .string(ExportedItem.hex(item.dhash)),
      .string(ExportedItem.hex(item.whash)), item.groupID.map { .number(String($0)) } ?? .null,
      item.caption.map { .string($0) } ?? .null, answers, item.metadata,
    ]
  }

  /// One row per kept item, as JSON Lines or RFC 4180 CSV (answers and metadata as JSON text).
  func table(out: String, csv: Bool) async throws -> Report {
    var isFolder: ObjCBool = false
    let file =
      FileManager.default.fileExists(atPath: out, isDirectory: &isFolder) && isFolder.boolValue
      ? out + "/\(dataset.name).\(csv ? "csv" : "jsonl")" : out
    let output = try OutputFile(path: file)
    var items = 0
    do {
      var line = ""
      if csv {
        for (index, column) in Self.columns.enumerated() {
          if index > 0 { line += "," }
          CSVField.append(column, to: &line)
        }
        try output.write(line + "\r\n")
      }
      try await forEachItem { item in
        line.removeAll(keepingCapacity: true)
        for (index, value) in Self.values(item).enumerated() {
          if csv {
            if index > 0 { line += "," }
            CSVField.append(value.plainText, to: &line)
          } else {
            line += index == 0 ? "{" : ","
            JSONWriter.appendString(Self.columns[index], to: &line)
            line += ":"
            JSONWriter.append(value, to: &line)
          }
        }
        line += csv ? "\r\n" : "}\n"
        try output.write(line)
        items += 1
      }
      try output.commit()
    } catch {
      output.abort()
      throw error
    }
    return Report(
      dataset: dataset.name, format: csv ? "csv" : "jsonl", path: file, items: items,
      records: items)
  }
}
