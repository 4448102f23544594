import Digest
import Foundation

/// Which checkpoint a worker runs, in terms that stay true when folders are renamed or copied:
/// the Hugging Face hub id and revision when known, else a SHA-256 of the weight files.
///
/// The hub identity comes from `.trolley-source.json` (written by `trolley model fetch`) or from
/// the hub cache's own layout (`models--ORG--NAME/snapshots/<commit>/`). Otherwise the weight
/// files are hashed once and the hash cached beside them in `.trolley-identity.json`, keyed by
/// each file's size and modification time, so later loads cost nothing. A folder that cannot
/// be written to is hashed at every load (and says so in the worker's log).
public struct ModelIdentity: Sendable, Hashable, Codable {
  /// The folder's name ("TroL-1.8B"), for people.
  public var name: String
  /// "BK-Lee/TroL-1.8B", when known.
  public var hubID: String?
  /// The hub commit the files came from, when known.
  public var revision: String?
  /// SHA-256 over the weight files' own SHA-256s (`name sha256\n` lines, sorted by name), when
  /// the hub identity is unknown.
  public var sha256: String?

  enum CodingKeys: String, CodingKey {
    case name
    case hubID = "hub_id"
    case revision, sha256
  }

  public init(name: String, hubID: String? = nil, revision: String? = nil, sha256: String? = nil) {
    self.name = name
    self.hubID = hubID
    self.revision = revision
    self.sha256 = sha256
  }

  /// "BK-Lee/TroL-1.8B@1a2b3c4d5e6f" or "TroL-1.8B sha256:0123456789ab", for tables.
  public var summary: String {
    if let hubID { return hubID + (revision.map { "@" + $0.prefix(12) } ?? "") }
    if let sha256 { return "\(name) sha256:\(sha256.prefix(12))" }
    return name
  }

  /// The files whose bytes are the model: the weights and the traversal gate.
  static let weightFiles = ["model.safetensors", "trol_gating.pt"]
  /// Written by `trolley model fetch`: `{"repo": "BK-Lee/TroL-1.8B", "revision": "<commit>"}`.
  public static let sourceFile = ".trolley-source.json"
  /// The content-hash cache.
  public static let cacheFile = ".trolley-identity.json"

  /// Identifies the checkpoint in `directory`.
  /// - Parameter warn: Told when the hash cannot be cached (read-only folder).
  /// - Throws: the file system's error when a weight file cannot be read.
  public static func identify(
    directory: String, warn: (String) -> Void = { _ in }
  ) throws -> ModelIdentity {
    let url = URL(fileURLWithPath: directory).standardizedFileURL
    let resolved = url.resolvingSymlinksInPath()
    let name = url.lastPathComponent
    if let data = FileManager.default.contents(atPath: url.appendingPathComponent(sourceFile).path),
      let source = try? JSONDecoder().decode(Source.self, from: data), !source.repo.isEmpty
    {
      return ModelIdentity(name: name, hubID: source.repo, revision: source.revision)
    }
    if let hub = hubCache(resolved.path) ?? hubCache(url.path) {
      return ModelIdentity(name: name, hubID: hub.repo, revision: hub.revision)
    }
    return ModelIdentity(name: name, sha256: try contentHash(url.path, warn: warn))
  }

  struct Source: Codable {
    var repo: String
    var revision: String?
  }

  /// `.../models--BK-Lee--TroL-1.8B/snapshots/<commit>` → ("BK-Lee/TroL-1.8B", commit).
  static func hubCache(_ path: String) -> Source? {
    let parts = path.split(separator: "/").map(String.init)
    guard let snapshots = parts.lastIndex(of: "snapshots"), snapshots > 0,
      snapshots + 1 < parts.count
    else { return nil }
    let folder = parts[snapshots - 1]
    guard folder.hasPrefix("models--") else { return nil }
    let repo = folder.dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
    return Source(repo: repo, revision: parts[snapshots + 1])
  }

  struct Cache: Codable {
    struct File: Codable, Equatable {
      var name: String
      var size: Int64
      var modified: Double
      var sha256: String
    }
    var files: [File]
    var sha256: String
  }

  static func contentHash(_ directory: String, warn: (String) -> Void) throws -> String {
    let cachePath = directory + "/" + cacheFile
    var cached: Cache?
    if let data = FileManager.default.contents(atPath: cachePath) {
      cached = try? JSONDecoder().decode(Cache.self, from: data)
    }
    var files: [Cache.File] = []
    for name in weightFiles.sorted() {
      let path = directory + "/" + name
      guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
        continue
      }
      let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
      let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      if let hit = cached?.files.first(where: {
        $0.name == name && $0.size == size && $0.modified == modified
      }) {
        files.append(hit)
      } else {
        files.append(
          Cache.File(
            name: name, size: size, modified: modified, sha256: try SHA256.hex(ofFile: path)))
      }
    }
    var combined = SHA256()
    for file in files { combined.update("\(file.name) \(file.sha256)\n") }
    let cache = Cache(files: files, sha256: combined.finalizeHex())
    if cache.files != cached?.files {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      do {
        try encoder.encode(cache).write(to: URL(fileURLWithPath: cachePath), options: .atomic)
      } catch {
        warn(
          "cannot cache the weights' SHA-256 in \(cachePath) (\(error.localizedDescription)); "
            + "it is computed again at every load")
      }
    }
    return cache.sha256
  }
}
