internal import Foundation
internal import Synchronization
internal import Tensor

#if canImport(Glibc)
  internal import Glibc
#elseif canImport(Darwin)
  internal import Darwin
#endif

/// The load-time repacking of 16-bit weights, cached beside the checkpoint.
///
/// Why: repacking TroL-1.8B's 16-bit matrices into panels (`HalfWeight`) writes 3.4 GB of fresh
/// pages, 6-12 s of every worker start on a VM. The first load writes the packed panels to
/// `.trolley-packed-f16.bin` in the model folder; later loads map that file and use its pages
/// in place (from the page cache, without repacking).
///
/// The cache is never trusted: it is used only when its header names the checkpoint's content
/// hash (the provenance SHA-256, which changes when a weight file changes), when the file is a
/// regular file owned by this user and writable by no one else, when every tensor's name, dtype
/// and shape equal what the model asks for, when each tensor's bytes match their checksum, and
/// when sampled values equal the checkpoint's own. Anything else (stale, corrupt, truncated,
/// foreign) makes the whole file ignored; the weights are repacked and the file rewritten. It
/// is written atomically (a private temporary file, synced, then renamed), mode 0644.
public final class PackedWeightCache: @unchecked Sendable {
  public static let fileName = ".trolley-packed-f16.bin"
  static let magic: [UInt8] = Array("TROLPAK1".utf8)
  /// Payload offsets are page aligned, so each tensor's mapped bytes are (more than) 64-byte
  /// aligned, as the kernels need.
  static let alignment = 4096
  /// Values compared against the checkpoint per tensor.
  static let samplesPerTensor = 64

  /// What the cache did, for the log.
  public enum Outcome: Sendable, Equatable {
    /// Every 16-bit weight came from the file.
    case used(tensors: Int)
    /// The file was (re)built; `reason` says why the old one, if any, was not used.
    case written(tensors: Int, reason: String)
    /// The file could not be written (read-only folder...): the next start repacks again.
    case notWritten(reason: String)
    /// No 16-bit weights were loaded (another weight format): nothing to cache.
    case unused
  }

  struct Entry: Codable, Equatable {
    var name: String
    var dtype: String
    var out: Int
    var `in`: Int
    var offset: Int
    var length: Int
    /// Two wrapping sums over the bytes as little-endian UInt64 words: Σw and Σ(i+1)·w.
    var sum: UInt64
    var weightedSum: UInt64
  }

  struct Header: Codable {
    var contentHash: String
    var fileLength: Int
    var tensors: [Entry]
  }

  public let path: String
  let contentHash: String

  private struct State {
    var file: MappedFile?
    var entries: [String: Entry] = [:]
    /// Why the file is not used ("" while it is).
    var rejection: String
    var used: [(name: String, weight: HalfWeight)] = []
    var built: [(name: String, weight: HalfWeight)] = []
  }
  private let state: Mutex<State>

  /// Opens the cache for the checkpoint in `directory` whose content hash is `contentHash`.
  /// Never throws: a missing or unusable file only means the weights are repacked.
  public init(directory: String, contentHash: String) {
    path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
    self.contentHash = contentHash
    var initial = State(rejection: "")
    do {
      let (file, header) = try Self.open(path, contentHash: contentHash)
      initial.file = file
      initial.entries = Dictionary(
        header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    } catch {
      initial.rejection = error.message
    }
    state = Mutex(initial)
  }

  /// The packed weight `name` from the file when it is valid for `raw` (the checkpoint's tensor,
  /// shape [out, in]); nil when it must be repacked. A mismatch rejects the whole file.
  func weight(
    _ name: String, raw: RawTensorData, out: Int, in inFeatures: Int, compute: ComputeMode
  ) -> HalfWeight? {
    let found: (MappedFile, Entry)? = state.withLock { state in
      guard state.rejection.isEmpty, let file = state.file else { return nil }
      guard let entry = state.entries[name] else {
        state.rejection = "it has no tensor \(name)"
        return nil
      }
      return (file, entry)
    }
    guard let (file, entry) = found else { return nil }
    let weight: HalfWeight
    do {
      guard entry.dtype == raw.dtype.rawValue, entry.out == out, entry.in == inFeatures,
        entry.length == HalfWeight.packedByteCount(outFeatures: out, inFeatures: inFeatures)
      else {
        throw CacheError("\(name) is \(entry.dtype) [\(entry.out), \(entry.in)] in the cache")
      }
      let bytes = UnsafeRawBufferPointer(
        rebasing: file.bytes[entry.offset..<(entry.offset + entry.length)])
      guard Self.checksums(bytes) == (entry.sum, entry.weightedSum) else {
        throw CacheError("the bytes of \(name) do not match their checksum")
      }
      weight = try HalfWeight(
        packed: bytes, outFeatures: out, inFeatures: inFeatures, dtype: raw.dtype, owner: file,
        compute: compute)
      guard Self.samplesMatch(weight, raw: raw) else {
        throw CacheError("\(name) differs from the checkpoint")
      }
    } catch {
      state.withLock { if $0.rejection.isEmpty { $0.rejection = "\(error)" } }
      return nil
    }
    state.withLock { $0.used.append((name, weight)) }
    return weight
  }

  /// Remembers a weight repacked at this load, to be written by `finish`.
  func record(_ name: String, _ weight: HalfWeight) {
    state.withLock { $0.built.append((name, weight)) }
  }

  /// After the model is loaded: writes the file when anything was repacked.
  public func finish() -> Outcome {
    let (built, used, rejection) = state.withLock { state in
      let result = (state.built, state.used, state.rejection)
      state.built = []
      state.used = []
      return result
    }
    if built.isEmpty { return used.isEmpty ? .unused : .used(tensors: used.count) }
    // A file rejected part-way already gave some weights (each checked): they are written again
    // with the repacked ones. The old file stays mapped while the new one replaces its name.
    let all = (built + used).sorted { $0.name < $1.name }
    do {
      try write(all)
      return .written(tensors: all.count, reason: rejection.isEmpty ? "no cache" : rejection)
    } catch {
      return .notWritten(reason: "\(error)")
    }
  }

  struct CacheError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
  }

  /// Maps and validates the file's header; throws why it cannot be used.
  static func open(_ path: String, contentHash: String) throws(CacheError) -> (MappedFile, Header) {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw CacheError("no cache file") }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw CacheError("not a regular file") }
    guard info.st_uid == geteuid() else { throw CacheError("owned by another user") }
    guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
      throw CacheError("writable by other users")
    }
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch { throw CacheError("unreadable: \(error)") }
    let bytes = file.bytes
    let prefix = magic.count + 8
    guard bytes.count >= prefix, Array(bytes[0..<magic.count]) == magic else {
      throw CacheError("not a packed-weights file (or another version)")
    }
    let headerLength = Int(bytes.loadUnaligned(fromByteOffset: magic.count, as: UInt32.self))
    let headerCRC = bytes.loadUnaligned(fromByteOffset: magic.count + 4, as: UInt32.self)
    guard headerLength > 0, prefix + headerLength <= bytes.count else {
      throw CacheError("truncated header")
    }
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[prefix..<(prefix + headerLength)])
    guard CRC32.checksum(headerBytes) == headerCRC else { throw CacheError("corrupt header") }
    guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
      throw CacheError("unreadable header")
    }
    guard header.contentHash == contentHash else {
      throw CacheError("stale: made for checkpoint \(header.contentHash.prefix(12))")
    }
    guard header.fileLength == bytes.count else {
      throw CacheError("truncated: \(bytes.count) of \(header.fileLength) bytes")
    }
    let payloadStart = prefix + headerLength
    for entry in header.tensors {
      guard entry.offset >= payloadStart, entry.offset % alignment == 0, entry.length >= 0,
        entry.offset <= bytes.count - entry.length
      else { throw CacheError("tensor \(entry.name) lies outside the file") }
    }
    return (file, header)
  }

  /// Writes `weights` to a temporary file beside the cache, syncs it and renames it over.
  private func write(_ weights: [(name: String, weight: HalfWeight)]) throws {
    let prefix = Self.magic.count + 8
    var entries: [Entry] = []
    // The header's length depends on the offsets, which depend on the header's length: lay out
    // with a generous bound for the header, then pad it to that bound.
    let headerBound = 4096 + weights.count * 512
    var offset = Self.aligned(prefix + headerBound)
    for (name, weight) in weights {
      let bytes = weight.packedBytes
      let (sum, weighted) = Self.checksums(bytes)
      entries.append(
        Entry(
          name: name, dtype: weight.dtype.rawValue, out: weight.outFeatures,
          in: weight.inFeatures, offset: offset, length: bytes.count, sum: sum,
          weightedSum: weighted))
      offset = Self.aligned(offset + bytes.count)
    }
    let fileLength = entries.last.map { $0.offset + $0.length } ?? prefix + headerBound
    var header = try JSONEncoder().encode(
      Header(contentHash: contentHash, fileLength: fileLength, tensors: entries))
    guard header.count <= headerBound else {
      throw CacheError("header of \(header.count) bytes exceeds its room")
    }
    header.append(contentsOf: [UInt8](repeating: 0x20, count: headerBound - header.count))
    let directory = (path as NSString).deletingLastPathComponent
    var template = Array((directory + "/.trolley-packed.tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw CacheError("cannot create a file in \(directory): \(String(cString: strerror(errno)))")
    }
    let temporary = String(
      decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var done = false
    defer {
      close(fd)
      if !done { unlink(temporary) }
    }
    var front = Self.magic
    withUnsafeBytes(of: UInt32(header.count).littleEndian) { front += $0 }
    let crc = header.withUnsafeBytes { CRC32.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { front += $0 }
    try Self.write(fd, front, at: 0)
    try Self.write(fd, [UInt8](header), at: prefix)
    for (entry, (_, weight)) in zip(entries, weights) {
      try Self.write(fd, weight.packedBytes, at: entry.offset)
    }
    guard ftruncate(fd, off_t(fileLength)) == 0, fchmod(fd, 0o644) == 0, fsync(fd) == 0 else {
      throw CacheError("cannot finish \(temporary): \(String(cString: strerror(errno)))")
    }
    guard rename(temporary, path) == 0 else {
      throw CacheError("cannot rename to \(path): \(String(cString: strerror(errno)))")
    }
    done = true
  }

  private static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int) throws {
    try bytes.withUnsafeBytes { try write(fd, $0, at: offset) }
  }

  private static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
    var done = 0
    while done < bytes.count {
      let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw CacheError("cannot write the cache: \(String(cString: strerror(errno)))")
      }
      done += n
    }
  }

  static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

  /// Σw and Σ(i+1)·w over the bytes as little-endian UInt64 words (a shorter tail zero-padded),
  /// wrapping: any single changed word changes the first, a swap of two words the second.
  static func checksums(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
    let words = bytes.count / 8
    var sum = SIMD4<UInt64>()
    var weighted = SIMD4<UInt64>()
    var index = SIMD4<UInt64>(1, 2, 3, 4)
    let step = SIMD4<UInt64>(repeating: 4)
    var i = 0
    if let base = bytes.baseAddress {
      while i + 4 <= words {
        let w = base.loadUnaligned(fromByteOffset: 8 &* i, as: SIMD4<UInt64>.self)
        sum &+= w
        weighted &+= w &* index
        index &+= step
        i += 4
      }
    }
    var s = sum.wrappedSum()
    var t = weighted.wrappedSum()
    while i < words {
      let w = bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
      s &+= w
      t &+= w &* UInt64(i + 1)
      i += 1
    }
    if words * 8 < bytes.count {
      var tail: UInt64 = 0
      for (k, byte) in bytes[(words * 8)...].enumerated() { tail |= UInt64(byte) << (8 * k) }
      s &+= tail
      t &+= tail &* UInt64(words + 1)
    }
    return (s, t)
  }

  /// Compares values at fixed, spread positions against the checkpoint's 16-bit bits.
  static func samplesMatch(_ weight: HalfWeight, raw: RawTensorData) -> Bool {
    let (out, inF) = (weight.outFeatures, weight.inFeatures)
    guard out > 0, inF > 0, raw.bytes.count >= 2 * out * inF else { return out * inF == 0 }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(out &* 31 &+ inF)
    for _ in 0..<samplesPerTensor {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let r = Int((state >> 33) % UInt64(out))
      let c = Int((state >> 11) % UInt64(inF))
      let stored = raw.bytes.loadUnaligned(fromByteOffset: 2 * (r * inF + c), as: UInt16.self)
      if weight.storedBits(row: r, column: c) != stored { return false }
    }
    // The last row and column too: a truncated or shifted payload shows there first.
    let last = raw.bytes.loadUnaligned(fromByteOffset: 2 * (out * inF - 1), as: UInt16.self)
    return weight.storedBits(row: out - 1, column: inF - 1) == last
  }
}
