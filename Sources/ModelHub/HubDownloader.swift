internal import CCurl
import Digest
public import Foundation

/// Downloads model repositories from a Hugging Face hub (or anything serving its API): the file
/// list of a revision, then each file through the hub's `resolve` endpoint, resumable, with its
/// size and (for git-LFS files) SHA-256 checked against what the hub lists.
public final class HubDownloader: Sendable {
  public let settings: HubSettings

  public init(settings: HubSettings) {
    self.settings = settings
    trolley_curl_global_init()
  }

  /// "org/name": letters, digits, `-`, `_` and `.`, one slash.
  public static func isValidRepositoryID(_ id: String) -> Bool {
    let parts = id.split(separator: "/", omittingEmptySubsequences: false)
    return parts.count == 2
      && parts.allSatisfy { part in
        !part.isEmpty && part != "." && part != ".."
          && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
      }
  }

  static func encode(_ component: String) -> String {
    component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"]))
      ?? component
  }

  static func encodePath(_ path: String) -> String {
    path.split(separator: "/").map { encode(String($0)) }.joined(separator: "/")
  }

  /// The repository's files at `revision` (a branch, tag or commit).
  /// - Throws: `HubError` (unreachable, not found, needs a token, malformed answer).
  public func repository(_ id: String, revision: String) throws -> HubRepository {
    let url =
      "\(settings.endpoint)/api/models/\(id)/revision/\(Self.encode(revision))?blobs=true"
    let temporary = NSTemporaryDirectory() + "trolley-hub-\(UUID().uuidString).json"
    defer { try? FileManager.default.removeItem(atPath: temporary) }
    try transfer(url, to: temporary, resumeFrom: 0, what: "the file list of \(id)@\(revision)") {
      _ in
    }
    guard let data = FileManager.default.contents(atPath: temporary) else {
      throw HubError("cannot read the hub's answer about \(id)")
    }
    return try HubRepository(json: data, id: id)
  }

  /// Downloads `file` of `repository` to `destination`: into `destination.incomplete` first
  /// (resumed from where an earlier attempt stopped), checked, then renamed into place.
  /// - Parameter progress: The bytes of this file so far.
  /// - Throws: `HubError`; a file that fails its check is deleted so the next run starts afresh.
  public func download(
    _ file: HubFile, of repository: HubRepository, to destination: String,
    progress: @escaping (Int64) -> Void
  ) throws {
    let partial = destination + ".incomplete"
    try FileManager.default.createDirectory(
      atPath: (destination as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true)
    var have = Self.size(of: partial) ?? 0
    if let size = file.size, have > size {
      try? FileManager.default.removeItem(atPath: partial)
      have = 0
    }
    if file.size == nil || have < file.size! || file.size == 0 {
      let url =
        "\(settings.endpoint)/\(repository.id)/resolve/\(repository.commit)/\(Self.encodePath(file.path))"
      try transfer(url, to: partial, resumeFrom: have, what: file.path, progress: progress)
    }
    let got = Self.size(of: partial) ?? 0
    if let size = file.size, got != size {
      try? FileManager.default.removeItem(atPath: partial)
      throw HubError(
        "\(file.path): downloaded \(got) bytes, but the hub lists \(size); the partial file was removed, run the command again"
      )
    }
    if let expected = file.sha256?.lowercased() {
      let actual = try SHA256.hex(ofFile: partial)
      guard actual == expected else {
        try? FileManager.default.removeItem(atPath: partial)
        throw HubError(
          "\(file.path): SHA-256 \(actual) does not match the hub's \(expected); the file was removed, run the command again"
        )
      }
    }
    try? FileManager.default.removeItem(atPath: destination)
    try FileManager.default.moveItem(atPath: partial, toPath: destination)
  }

  static func size(of path: String) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
  }

  private final class ProgressBox {
    let callback: (Int64) -> Void
    init(_ callback: @escaping (Int64) -> Void) { self.callback = callback }
  }

  private func transfer(
    _ url: String, to path: String, resumeFrom: Int64, what: String,
    progress: @escaping (Int64) -> Void
  ) throws {
    let box = ProgressBox(progress)
    let context = Unmanaged.passRetained(box).toOpaque()
    defer { Unmanaged<ProgressBox>.fromOpaque(context).release() }
    var result = trolley_download_result()
    let authorization = settings.token.map { "Bearer " + $0 }
    trolley_download_file(
      url, authorization, path, resumeFrom, 15_000, 60_000,
      { context, bytes in
        guard let context else { return }
        Unmanaged<ProgressBox>.fromOpaque(context).takeUnretainedValue().callback(Int64(bytes))
      }, context, &result)
    guard result.curl_code != 0 else { return }
    let message = withUnsafeBytes(of: &result.error) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    switch result.http_status {
    case 0:
      throw HubError(
        "cannot reach the hub at \(settings.endpoint) for \(what): \(message)", unreachable: true)
    case 401, 403:
      throw HubError(
        "the hub refused \(what) (HTTP \(result.http_status)): the repository is private or gated; "
          + "accept its terms on the hub and set HF_TOKEN to an access token")
    case 404:
      throw HubError(
        "the hub has no \(what) (HTTP 404): check the repository id and --revision")
    default:
      throw HubError("the hub failed \(what) (HTTP \(result.http_status)): \(message)")
    }
  }
}
