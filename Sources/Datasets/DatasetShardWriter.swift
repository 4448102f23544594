public import Curation
import Digest
public import Foundation
import TrolleyBasics
public import TrolleyJobContracts

/// Writes one WebDataset shard of a dataset (design/curation.md, "Outputs"): for each kept item
/// of the shard's id range, by id, the original bytes (`<key>.jpg|png|webp`), `<key>.json` and,
/// when the item has a caption, `<key>.txt`, in webdataset's `TarWriter` order (extensions
/// sorted). Then `<prefix>-<shard>_stats.json`; the last shard also writes `sizes.json` from
/// every shard's stats. Nothing depends on the clock, so a re-run writes the same bytes.
public struct DatasetShardWriter: Sendable {
  public let store: DatasetStore
  /// Reads a source's bytes (the worker's fetch policy).
  public let fetch: @Sendable (String) async throws -> [UInt8]

  public init(store: DatasetStore, fetch: @escaping @Sendable (String) async throws -> [UInt8]) {
    self.store = store
    self.fetch = fetch
  }

  /// What one shard holds (`<prefix>-<shard>_stats.json`).
  public struct Stats: Sendable, Hashable, Codable {
    public var shard: String
    public var count: Int
    public var bytes: Int
    public var sha256: String
    public var firstKey: String?
    public var lastKey: String?

    enum CodingKeys: String, CodingKey {
      case shard, count, bytes, sha256
      case firstKey = "first_key"
      case lastKey = "last_key"
    }
  }

  /// The tar's file name.
  public static func shardName(prefix: String, shard: Int) -> String {
    let digits = String(shard)
    return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
      + ".tar"
  }

  /// Writes the shard.
  /// - Throws: `DatasetError` when a source's bytes no longer match the item's sha256,
  ///   `TarWriter.Failure` when the folder cannot be written, and what `fetch` throws.
  public func write(_ payload: CurateShardContract.Payload, checkStop: () throws -> Void)
    async throws -> CurateShardContract.Result
  {
    let folder = payload.out
    let name = Self.shardName(prefix: payload.prefix, shard: payload.shard)
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: true)
    let tar = try TarWriter(path: folder + "/" + name)
    let encoder = JSONEncoder.sorted
    var after = payload.firstID - 1
    var count = 0
    var keys: (first: String?, last: String?) = (nil, nil)
    while true {
      try checkStop()
      let page = try await store.exportPage(
        datasetID: payload.datasetID, afterID: after, throughID: payload.lastID, limit: 500)
      guard let lastItem = page.last else { break }
      for item in page {
        let bytes = try await fetch(item.source)
        let digest = SHA256.hex(bytes)
        guard digest == item.sha256 else {
          throw DatasetError(
            .invalidRequest,
            "\(item.source) changed since it was ingested (sha256 \(digest), recorded "
              + "\(item.sha256)); ingest it again under a new name or restore the file")
        }
        var members: [(String, [UInt8])] = [
          (item.fileExtension, bytes),
          ("json", Array(try encoder.encode(SampleJSON(item)))),
        ]
        if let caption = item.caption { members.append(("txt", Array(caption.utf8))) }
        for (ext, content) in members.sorted(by: { $0.0 < $1.0 }) {
          try tar.add(name: item.key + "." + ext, bytes: content)
        }
        count += 1
        keys.first = keys.first ?? item.key
        keys.last = item.key
      }
      after = lastItem.id
    }
    let (bytes, sha256) = try tar.finish()
    let stats = Stats(
      shard: name, count: count, bytes: bytes, sha256: sha256, firstKey: keys.first,
      lastKey: keys.last)
    try Self.writeAtomically(
      try encoder.encode(stats),
      to: folder + "/" + String(name.dropLast(4)) + "_stats.json")
    if payload.shard == payload.shards - 1 {
      try writeSizes(payload)
    }
    return CurateShardContract.Result(
      path: folder + "/" + name, count: count, bytes: bytes, sha256: sha256)
  }

  /// `sizes.json`: every shard's file name and sample count, from the shards' stats files.
  func writeSizes(_ payload: CurateShardContract.Payload) throws {
    var sizes: [String: Int] = [:]
    for shard in 0..<payload.shards {
      let name = Self.shardName(prefix: payload.prefix, shard: shard)
      let path = payload.out + "/" + String(name.dropLast(4)) + "_stats.json"
      guard let data = FileManager.default.contents(atPath: path) else {
        throw DatasetError(
          .invalidRequest, "\(path) is missing: shard \(shard) has not been written")
      }
      sizes[name] = try JSONDecoder().decode(Stats.self, from: data).count
    }
    try Self.writeAtomically(
      try JSONEncoder.sorted.encode(sizes), to: payload.out + "/sizes.json")
  }

  static func writeAtomically(_ data: Data, to path: String) throws {
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}

/// A sample's `.json`: img2dataset's fields (url, key, status, width, height, original size,
/// sha256, caption), plus format, size, the four hashes, the answers and the manifest metadata.
/// Encoded with sorted keys; an absent caption or group is left out.
struct SampleJSON: Encodable {
  let item: ExportedItem

  init(_ item: ExportedItem) { self.item = item }

  /// Every field with its value, read from the item as it is encoded. The stored image is the
  /// original, so its size is also the original size.
  var fields: [(CodingKeys, (any Encodable)?)] {
    [
      (.key, item.key), (.url, item.source), (.status, "success"), (.width, item.width),
      (.height, item.height), (.originalWidth, item.width), (.originalHeight, item.height),
      (.sha256, item.sha256), (.caption, item.caption), (.format, item.format),
      (.bytes, item.bytes), (.ahash, ExportedItem.hex(item.ahash)),
      (.phash, ExportedItem.hex(item.phash)), (.dhash, ExportedItem.hex(item.dhash)),
      (.whash, ExportedItem.hex(item.whash)), (.groupID, item.groupID),
      (.answers, item.answers), (.metadata, item.metadata),
    ]
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    for case (let key, let value?) in fields {
      try container.encode(value, forKey: key)
    }
  }

  enum CodingKeys: String, CodingKey {
    case key, url, status, width, height
    case originalWidth = "original_width"
    case originalHeight = "original_height"
    case sha256, caption, format, bytes, ahash, phash, dhash, whash
    case groupID = "group_id"
    case answers, metadata
  }
}
