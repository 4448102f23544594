import Digest

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a POSIX ustar archive of regular files, byte-identical for the same members in the
/// same order: mode 0644, uid/gid 0, empty user and group names, mtime 0, no extended headers.
/// WebDataset shards are such archives (`webdataset` reads ustar through Python's `tarfile`).
///
/// The archive goes to `<path>.partial`; `finish()` writes the two zero blocks, pads to a
/// multiple of 10,240 bytes like tar(1) and Python's `tarfile`, fsyncs and renames it to `path`,
/// so a reader never sees half a shard. The SHA-256 and size are computed while writing.
public final class TarWriter {
  /// A member or the file could not be written; the message says which and why.
  public struct Failure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
  }

  static let block = 512
  static let record = 10_240

  public let path: String
  private let partialPath: String
  private var descriptor: Int32
  private var digest = SHA256()
  private var buffer: [UInt8] = []
  /// Bytes written so far.
  public private(set) var byteCount = 0

  /// Creates (or truncates) `<path>.partial`.
  public init(path: String) throws(Failure) {
    self.path = path
    partialPath = path + ".partial"
    descriptor = open(partialPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw Failure(message: "cannot create \(partialPath): \(String(cString: strerror(errno)))")
    }
    buffer.reserveCapacity(1 << 20)
  }

  deinit {
    if descriptor >= 0 {
      close(descriptor)
      unlink(partialPath)
    }
  }

  /// Appends one regular file named `name` (at most 100 bytes of UTF-8) holding `bytes`.
  public func add(name: String, bytes: [UInt8]) throws(Failure) {
    try append(Self.header(name: name, size: bytes.count))
    try append(bytes)
    let padding = (Self.block - bytes.count % Self.block) % Self.block
    try append([UInt8](repeating: 0, count: padding))
  }

  /// Ends the archive and moves it into place.
  /// - Returns: the archive's size and lowercase hex SHA-256.
  public func finish() throws(Failure) -> (bytes: Int, sha256: String) {
    var trailer = 2 * Self.block
    let total = byteCount + trailer
    trailer += (Self.record - total % Self.record) % Self.record
    try append([UInt8](repeating: 0, count: trailer))
    try flush()
    guard fsync(descriptor) == 0 else {
      throw Failure(message: "cannot sync \(partialPath): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    descriptor = -1
    guard rename(partialPath, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(partialPath)
      throw Failure(message: "cannot rename \(partialPath) to \(path): \(reason)")
    }
    return (byteCount, digest.finalizeHex())
  }

  /// The 512-byte ustar header of a regular file.
  static func header(name: String, size: Int) throws(Failure) -> [UInt8] {
    let nameBytes = Array(name.utf8)
    guard !nameBytes.isEmpty, nameBytes.count <= 100, !nameBytes.contains(0) else {
      throw Failure(message: "tar member name '\(name)' must be 1 to 100 bytes without NUL")
    }
    guard size >= 0, size < 1 << 33 else {
      throw Failure(message: "tar member \(name) is \(size) bytes; ustar holds under 8 GiB")
    }
    var header = [UInt8](repeating: 0, count: block)
    func put(_ bytes: [UInt8], at offset: Int) {
      for (index, byte) in bytes.enumerated() { header[offset + index] = byte }
    }
    // Octal fields: zero-padded digits then a NUL, as Python's tarfile writes them.
    func octal(_ value: Int, width: Int) -> [UInt8] {
      let digits = String(value, radix: 8)
      return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
    }
    put(nameBytes, at: 0)
    put(octal(0o644, width: 8), at: 100)  // mode
    put(octal(0, width: 8), at: 108)  // uid
    put(octal(0, width: 8), at: 116)  // gid
    put(octal(size, width: 12), at: 124)  // size
    put(octal(0, width: 12), at: 136)  // mtime
    put(Array(repeating: 0x20, count: 8), at: 148)  // checksum, as spaces while summing
    header[156] = UInt8(ascii: "0")  // regular file
    put(Array("ustar".utf8) + [0], at: 257)
    put(Array("00".utf8), at: 263)
    put(octal(0, width: 8), at: 329)  // devmajor
    put(octal(0, width: 8), at: 337)  // devminor
    let checksum = header.reduce(0) { $0 + Int($1) }
    put(octal(checksum, width: 7) + [0x20], at: 148)
    return header
  }

  private func append(_ bytes: [UInt8]) throws(Failure) {
    digest.update(bytes)
    byteCount += bytes.count
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 20 { try flush() }
  }

  private func flush() throws(Failure) {
    var offset = 0
    while offset < buffer.count {
      let written = buffer.withUnsafeBytes { raw in
        write(descriptor, raw.baseAddress! + offset, raw.count - offset)
      }
      if written < 0 {
        if errno == EINTR { continue }
        throw Failure(message: "cannot write \(partialPath): \(String(cString: strerror(errno)))")
      }
      offset += written
    }
    buffer.removeAll(keepingCapacity: true)
  }
}
