public import Curation
public import Foundation
public import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// A kept item as exports and shards see it.
public struct ExportedItem: Sendable, Equatable {
  public var id: Int64
  public var source: String
  public var sha256: String
  public var width: Int
  public var height: Int
  /// jpeg, png, webp, gif or bmp.
  public var format: String
  public var bytes: Int
  public var ahash: UInt64
  public var phash: UInt64
  public var dhash: UInt64
  public var whash: UInt64
  /// The near-duplicate group the item represents, if any.
  public var groupID: Int64?
  /// The manifest's other columns (a JSON object; `caption_prompt` once a caption was written).
  public var metadata: JobJSON
  public var caption: String?
  public var answers: [ItemAnswer]

  /// The sample key in shards and exports: the item id in 12 digits.
  public var key: String {
    let digits = String(id)
    return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
  }

  /// The file extension of the original bytes.
  public var fileExtension: String {
    switch format {
    case "jpeg": "jpg"
    default: format
    }
  }

  /// A hash as imagehash prints it: 16 lowercase hex digits.
  public static func hex(_ hash: UInt64) -> String { ImageHashes.hex(hash) }

  /// The prompt the caption answers: the one recorded with it, else the worker's default.
  public var captionPrompt: String {
    if case .object(let members) = metadata,
      let member = members.first(where: { $0.key == "caption_prompt" }),
      case .string(let prompt) = member.value, !prompt.isEmpty
    {
      return prompt
    }
    return Self.defaultCaptionPrompt
  }

  /// `trolley worker --caption-prompt`'s default (kept equal to EngineJobSettings').
  public static let defaultCaptionPrompt = "Describe this image in detail."
}

/// One shard's id range, fixed when `dataset export` plans it.
public struct ShardRange: Sendable, Hashable, Codable {
  public var firstID: Int64
  public var lastID: Int64
  public var count: Int
}

extension DatasetStore {
  static let exportPageSQL = """
    SELECT id, source, sha256, width, height, format, bytes, ahash, phash, dhash, whash,
           group_id, metadata::text, caption, answers::text
    FROM dataset_item
    WHERE dataset_id = $1 AND status = 'ok' AND id > $2 AND id <= $3
    ORDER BY id LIMIT $4
    """

  // Consecutive runs of `size` kept items, by id.
  static let exportRangesSQL = """
    SELECT min(id), max(id), count(*)::bigint FROM (
      SELECT id, (row_number() OVER (ORDER BY id) - 1) / $2 AS shard
      FROM dataset_item WHERE dataset_id = $1 AND status = 'ok') AS numbered
    GROUP BY shard ORDER BY shard
    """

  /// Up to `limit` kept items with ids in `afterID + 1 ... throughID`, by id.
  public func exportPage(datasetID: Int64, afterID: Int64, throughID: Int64 = .max, limit: Int)
    async throws -> [ExportedItem]
  {
    let decoder = JSONDecoder()
    return try await client.query(
      Self.exportPageSQL, [datasetID, afterID, throughID, Int64(limit)]
    ).map { row in
      let (id, source, sha256, width, height, format, bytes, ahash) = try row.decode(
        (Int64, String, String?, Int?, Int?, String?, Int64?, Int64?).self)
      let (phash, dhash, whash, group, metadata, caption, answers) = try (
        row.decode(8, as: Int64?.self), row.decode(9, as: Int64?.self),
        row.decode(10, as: Int64?.self), row.decode(11, as: Int64?.self),
        row.decode(12, as: String.self), row.decode(13, as: String?.self),
        row.decode(14, as: String?.self)
      )
      guard let sha256, let width, let height, let format, let bytes, let ahash, let phash,
        let dhash, let whash
      else {
        throw DatasetError(.invalidRequest, "item \(id) is ok but was never hashed")
      }
      return ExportedItem(
        id: id, source: source, sha256: sha256, width: width, height: height, format: format,
        bytes: Int(bytes), ahash: UInt64(bitPattern: ahash), phash: UInt64(bitPattern: phash),
        dhash: UInt64(bitPattern: dhash), whash: UInt64(bitPattern: whash), groupID: group,
        metadata: try decoder.decode(JobJSON.self, from: Data(metadata.utf8)),
        caption: caption,
        answers: try answers.map { try decoder.decode([ItemAnswer].self, from: Data($0.utf8)) }
          ?? [])
    }
  }

  /// The kept items split into runs of `size`, by id.
  public func exportRanges(datasetID: Int64, size: Int, on connection: PostgresConnection) throws
    -> [ShardRange]
  {
    try connection.query(Self.exportRangesSQL, [datasetID, Int64(size)]).map {
      let (first, last, count) = try $0.decode((Int64, Int64, Int64).self)
      return ShardRange(firstID: first, lastID: last, count: Int(count))
    }
  }
}
