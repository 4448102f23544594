import CDigest
import CProcessor
import Foundation

/// SHA-256 (FIPS 180-4): unique keys derived from job inputs, content hashes of model weights
/// (result provenance) and the checksums the Hugging Face hub publishes for large files.
/// Not used for security; it only needs to be stable and to match other implementations.
///
/// Curation hashes every ingested file, so the rounds run on the CPU's SHA extensions where it has
/// them (about 6x the portable rounds on a 640x480 PNG's bytes); the portable Swift rounds serve
/// every other CPU, and a test checks that both give the same digests.
public struct SHA256 {
  /// Which compression function a hasher runs.
  public enum Implementation: Sendable, CaseIterable {
    /// FIPS 180-4's rounds in Swift: any CPU.
    case portable
    /// The x86 SHA extensions (sha256rnds2), on CPUs that have them.
    case shaExtensions

    /// Whether this CPU can run it.
    public var isAvailable: Bool {
      switch self {
      case .portable: true
      case .shaExtensions: SHA256.cpuHasSHAExtensions
      }
    }

    /// The fastest one this CPU has: what `SHA256()` uses.
    public static var fastest: Implementation { cpuHasSHAExtensions ? .shaExtensions : .portable }
  }

  /// Checked once per process.
  private static let cpuHasSHAExtensions = trolley_cpu_has_sha_extensions() == 1

  /// FIPS 180-4's round constants K, from the table the SHA-extension rounds use.
  private static let roundConstants: [UInt32] = withUnsafeBytes(
    of: trolley_sha256_round_constants
  ) { Array($0.bindMemory(to: UInt32.self)) }

  private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
    0x5be0_cd19
  )
  private var pending = [UInt8](repeating: 0, count: 64)
  private var pendingCount = 0
  private var length: UInt64 = 0
  /// The compression function this hasher runs.
  public let implementation: Implementation

  /// A hasher on the fastest implementation this CPU has.
  public init() { implementation = .fastest }

  /// A hasher on `implementation`, or nil when this CPU cannot run it.
  public init?(implementation: Implementation) {
    guard implementation.isAvailable else { return nil }
    self.implementation = implementation
  }

  /// Adds `bytes` to the message.
  public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
    let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in update(buffer) }
    if handled == nil { update(Array(bytes)) }
  }

  /// Adds the bytes in `buffer` to the message, a whole 64-byte block at a time where it can.
  public mutating func update(_ buffer: UnsafeBufferPointer<UInt8>) {
    length &+= UInt64(buffer.count)
    var offset = 0
    if pendingCount > 0 {
      let take = min(64 - pendingCount, buffer.count)
      for index in 0..<take { pending[pendingCount + index] = buffer[index] }
      pendingCount += take
      offset = take
      if pendingCount == 64 {
        let block = pending
        block.withUnsafeBufferPointer { compress($0) }
        pendingCount = 0
      }
    }
    let blocks = (buffer.count - offset) / 64
    if blocks > 0 {
      compress(UnsafeBufferPointer(rebasing: buffer[offset..<offset + blocks * 64]))
      offset += blocks * 64
    }
    for index in offset..<buffer.count {
      pending[pendingCount] = buffer[index]
      pendingCount += 1
    }
  }

  /// Adds the UTF-8 bytes of `text` to the message.
  public mutating func update(_ text: String) {
    var text = text
    text.withUTF8 { update($0) }
  }

  /// The digest as 64 lowercase hex characters.
  public mutating func finalizeHex() -> String {
    let bitLength = length &* 8
    var tail = Array(pending[..<pendingCount])
    tail.append(0x80)
    while tail.count % 64 != 56 { tail.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) {
      tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    let padded = tail
    padded.withUnsafeBufferPointer { compress($0) }
    let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
    let digits = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for word in words {
      for shift in stride(from: 28, through: 0, by: -4) {
        hex.append(digits[Int((word >> UInt32(shift)) & 0xF)])
      }
    }
    return String(decoding: hex, as: UTF8.self)
  }

  /// The hex digest of a file's contents, read in 4 MiB pieces (constant memory).
  /// - Parameter progress: Called after each piece with the bytes hashed so far.
  /// - Throws: the file system's error when the file cannot be opened or read.
  public static func hex(
    ofFile path: String, progress: ((Int64) -> Void)? = nil
  ) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    var done: Int64 = 0
    while let data = try handle.read(upToCount: 4 << 20), !data.isEmpty {
      data.withUnsafeBytes { hasher.update($0.bindMemory(to: UInt8.self)) }
      done += Int64(data.count)
      progress?(done)
    }
    return hasher.finalizeHex()
  }

  /// The hex digest of `bytes` (item identity and pixel digests in curation).
  public static func hex(_ bytes: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalizeHex()
  }

  /// The hex digest of `text`'s UTF-8 bytes.
  public static func hex(_ text: String) -> String {
    var hasher = SHA256()
    hasher.update(text)
    return hasher.finalizeHex()
  }

  /// Compresses `blocks`, a whole number of 64-byte blocks, into the state.
  private mutating func compress(_ blocks: UnsafeBufferPointer<UInt8>) {
    guard let base = blocks.baseAddress, blocks.count >= 64 else { return }
    switch implementation {
    case .shaExtensions:
      withUnsafeMutableBytes(of: &state) { words in
        trolley_sha256_blocks_shani(
          words.bindMemory(to: UInt32.self).baseAddress, base, blocks.count / 64)
      }
    case .portable:
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
        for start in stride(from: 0, to: blocks.count, by: 64) {
          compress(UnsafeBufferPointer(start: base + start, count: 64), schedule: schedule)
        }
      }
    }
  }

  private mutating func compress(
    _ block: UnsafeBufferPointer<UInt8>, schedule: UnsafeMutableBufferPointer<UInt32>
  ) {
    for index in 0..<16 {
      schedule[index] =
        UInt32(block[index * 4]) << 24 | UInt32(block[index * 4 + 1]) << 16
        | UInt32(block[index * 4 + 2]) << 8 | UInt32(block[index * 4 + 3])
    }
    for index in 16..<64 {
      let w15 = schedule[index - 15]
      let w2 = schedule[index - 2]
      let s0 = rotate(w15, 7) ^ rotate(w15, 18) ^ (w15 >> 3)
      let s1 = rotate(w2, 17) ^ rotate(w2, 19) ^ (w2 >> 10)
      schedule[index] = schedule[index - 16] &+ s0 &+ schedule[index - 7] &+ s1
    }
    var (a, b, c, d, e, f, g, h) = state
    for index in 0..<64 {
      let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
      let choice = (e & f) ^ (~e & g)
      let t1 = h &+ s1 &+ choice &+ Self.roundConstants[index] &+ schedule[index]
      let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
      let majority = (a & b) ^ (a & c) ^ (b & c)
      let t2 = s0 &+ majority
      (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
    }
    state = (
      state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f,
      state.6 &+ g, state.7 &+ h
    )
  }

  private func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value >> count) | (value << (32 - count))
  }
}
