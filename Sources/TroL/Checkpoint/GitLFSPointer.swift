import TrolleyBasics

/// A git-LFS pointer file: what a `git clone` of a Hugging Face repository holds in place of each
/// large file until `git lfs pull` replaces it. Read as weights it looks like garbage (its first
/// eight bytes, "version ", make a nonsensical safetensors header length), so every loader checks
/// for one first and says what to do.
///
/// The format (git-lfs spec v1): `version https://git-lfs.github.com/spec/v1`, then
/// `oid sha256:<hex>` and `size <bytes>` lines, under 1 KiB in all.
public struct GitLFSPointer: Sendable, Hashable {
  /// The real file's SHA-256 (hex), when the pointer names it.
  public var sha256: String?
  /// The real file's size in bytes, when the pointer names it.
  public var size: Int64?

  static let header = Array("version https://git-lfs.github.com/spec/".utf8)

  /// The pointer in `bytes`, or nil when they are not one.
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> GitLFSPointer? {
    guard bytes.count < 1024, bytes.count >= header.count,
      bytes.prefix(header.count).elementsEqual(header)
    else { return nil }
    var pointer = GitLFSPointer()
    let text = String(decoding: bytes, as: UTF8.self)
    for line in text.split(separator: "\n") {
      if line.hasPrefix("oid sha256:") {
        pointer.sha256 = String(line.dropFirst("oid sha256:".count))
      }
      if line.hasPrefix("size ") { pointer.size = Int64(line.dropFirst("size ".count)) }
    }
    return pointer
  }

  /// The pointer in `bytes`, or nil.
  public static func parse(_ bytes: [UInt8]) -> GitLFSPointer? {
    bytes.withUnsafeBytes { parse($0) }
  }

  /// The error a loader throws for a pointer found at `path`.
  func error(path: String) -> TroLError {
    let folder = path.split(separator: "/").dropLast().joined(separator: "/")
    let size = self.size.map { " (the real file is \(Self.formatted($0)))" } ?? ""
    return TroLError(
      .invalidCheckpoint,
      "\(path) is a git-LFS pointer, not the file itself\(size): the repository was cloned "
        + "without its large files. Run `git lfs pull` in \(path.hasPrefix("/") ? "/" : "")\(folder) "
        + "(install git-lfs first if needed), or download the checkpoint with "
        + "`trolley model fetch ORG/NAME --out DIR`.")
  }

  static func formatted(_ bytes: Int64) -> String {
    if bytes >= 1 << 30 { return "\(Double((bytes * 10) >> 30) / 10) GiB" }
    if bytes >= 1 << 20 { return "\(Double((bytes * 10) >> 20) / 10) MiB" }
    return "\(bytes) bytes"
  }

  /// Throws the pointer error when `bytes` (the file at `path`) are a pointer.
  static func check(_ bytes: UnsafeRawBufferPointer, path: String) throws {
    if let pointer = parse(bytes) { throw pointer.error(path: path) }
  }
}
