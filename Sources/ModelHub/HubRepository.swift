public import Foundation

/// One file of a model repository at a commit, as the hub lists it.
public struct HubFile: Sendable, Hashable {
  /// The path inside the repository ("model.safetensors", "sub/file.json").
  public var path: String
  /// The size in bytes, when listed.
  public var size: Int64?
  /// The SHA-256 of a git-LFS file (the large ones: weights), when listed.
  public var sha256: String?
  /// The git blob id (SHA-1 of the git object), when listed.
  public var blobID: String?
}

/// A model repository at one commit: what `GET /api/models/{repo}/revision/{revision}?blobs=true`
/// answers.
public struct HubRepository: Sendable, Hashable {
  public var id: String
  /// The commit the revision resolved to.
  public var commit: String
  public var files: [HubFile]

  /// Decodes the hub's JSON (`sha`, `siblings[].rfilename`, `.size`, `.blobId`, `.lfs.sha256`).
  /// - Throws: `HubError` naming what is missing.
  public init(json data: Data, id: String) throws {
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw HubError("the hub's answer about \(id) is not a JSON object")
    }
    guard let commit = object["sha"] as? String, !commit.isEmpty else {
      throw HubError("the hub's answer about \(id) names no commit (\"sha\")")
    }
    guard let siblings = object["siblings"] as? [[String: Any]] else {
      throw HubError("the hub's answer about \(id) lists no files (\"siblings\")")
    }
    self.id = id
    self.commit = commit
    files = siblings.compactMap { sibling in
      guard let path = sibling["rfilename"] as? String, !path.isEmpty else { return nil }
      let lfs = sibling["lfs"] as? [String: Any]
      let size = (lfs?["size"] as? NSNumber ?? sibling["size"] as? NSNumber)?.int64Value
      return HubFile(
        path: path, size: size, sha256: lfs?["sha256"] as? String ?? lfs?["oid"] as? String,
        blobID: sibling["blobId"] as? String)
    }
  }
}

/// A hub failure, with what to do.
public struct HubError: Error, CustomStringConvertible, Sendable {
  public var message: String
  /// True when the hub could not be reached at all (as opposed to answering with an error).
  public var unreachable: Bool

  public init(_ message: String, unreachable: Bool = false) {
    self.message = message
    self.unreachable = unreachable
  }

  public var description: String { message }
}
