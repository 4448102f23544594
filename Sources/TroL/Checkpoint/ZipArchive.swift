import TrolleyBasics

/// A read-only view of a zip archive's stored (uncompressed) entries, as `torch.save` writes them.
///
/// Parsed from the central directory, every offset and size bounds-checked and every entry's
/// CRC verified, so a truncated or corrupt archive is an error rather than a wrong read.
/// Compressed entries and zip64 archives are rejected with a clear error: `torch.save` writes
/// neither for files this small.
struct ZipArchive {
  /// Entry names in central-directory order.
  let names: [String]
  private let ranges: [String: Range<Int>]
  private let bytes: UnsafeRawBufferPointer
  let path: String

  /// Parses the archive held in `bytes` (which must outlive this value).
  ///
  /// - Throws: `TroLError.invalidCheckpoint` naming `path` and what was wrong.
  init(bytes: UnsafeRawBufferPointer, path: String) throws {
    self.bytes = bytes
    self.path = path
    func fail(_ what: String) -> TroLError {
      TroLError(.invalidCheckpoint, "\(path): \(what)")
    }
    func u16(_ offset: Int) -> Int {
      Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
    func u32(_ offset: Int) -> Int {
      Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    let eocdLength = 22
    guard bytes.count >= eocdLength else {
      throw fail("truncated zip archive (\(bytes.count) bytes); not a torch.save file")
    }
    var eocd = -1
    var candidate = bytes.count - eocdLength
    let lowest = max(0, bytes.count - eocdLength - 65535)
    while candidate >= lowest {
      if u32(candidate) == 0x0605_4b50
        && candidate + eocdLength + u16(candidate + 20) == bytes.count
      {
        eocd = candidate
        break
      }
      candidate -= 1
    }
    guard eocd >= 0 else {
      throw fail(
        "no zip end-of-central-directory record: the file is truncated or not a torch.save archive")
    }
    let entryCount = u16(eocd + 10)
    let directorySize = u32(eocd + 12)
    let directoryOffset = u32(eocd + 16)
    if entryCount == 0xffff || directorySize == 0xffff_ffff || directoryOffset == 0xffff_ffff {
      throw fail("zip64 archives are not supported (the gate file is a few kB)")
    }
    guard directoryOffset + directorySize <= eocd else {
      throw fail(
        "central directory (\(directoryOffset)+\(directorySize)) runs past its end record at \(eocd): truncated or corrupt"
      )
    }

    var names: [String] = []
    var ranges: [String: Range<Int>] = [:]
    var crcs: [(name: String, local: Int, range: Range<Int>, crc: UInt32)] = []
    var cursor = directoryOffset
    for index in 0..<entryCount {
      guard cursor + 46 <= directoryOffset + directorySize, u32(cursor) == 0x0201_4b50 else {
        throw fail("central directory entry \(index) is malformed")
      }
      let flags = u16(cursor + 8)
      let method = u16(cursor + 10)
      let crc = UInt32(u32(cursor + 16))
      let compressedSize = u32(cursor + 20)
      let size = u32(cursor + 24)
      let nameLength = u16(cursor + 28)
      let extraLength = u16(cursor + 30)
      let commentLength = u16(cursor + 32)
      let localOffset = u32(cursor + 42)
      let next = cursor + 46 + nameLength + extraLength + commentLength
      guard next <= directoryOffset + directorySize else {
        throw fail("central directory entry \(index) runs past the directory")
      }
      let name = String(
        decoding: UnsafeRawBufferPointer(
          rebasing: bytes[(cursor + 46)..<(cursor + 46 + nameLength)]), as: UTF8.self)
      cursor = next
      guard (flags & 0x1) == 0 else { throw fail("entry '\(name)' is encrypted") }
      guard method == 0 else {
        throw fail(
          "entry '\(name)' is compressed (method \(method)); only stored entries are supported, as torch.save writes them"
        )
      }
      guard compressedSize == size else {
        throw fail("stored entry '\(name)' has compressed size \(compressedSize) != size \(size)")
      }
      guard localOffset + 30 <= directoryOffset, u32(localOffset) == 0x0403_4b50 else {
        throw fail("entry '\(name)' has no valid local header at offset \(localOffset)")
      }
      // The local header's own name and extra lengths decide where the data starts (torch pads
      // the local extra field to align data to 64 bytes; the central one stays empty).
      let dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
      guard dataStart + size <= directoryOffset else {
        throw fail(
          "entry '\(name)' (\(size) bytes at \(dataStart)) runs past the data area: truncated or corrupt"
        )
      }
      let range = dataStart..<(dataStart + size)
      guard ranges[name] == nil else { throw fail("entry '\(name)' appears twice") }
      ranges[name] = range
      crcs.append((name, localOffset, range, crc))
      names.append(name)
    }
    // Entries must not share bytes: a crafted directory of 65,535 entries all pointing at one
    // large entry would otherwise make the CRC checks below read the file 65,535 times. With
    // disjoint entries, checking every CRC reads each byte at most once.
    let byStart = crcs.sorted { $0.local < $1.local }
    for (previous, next) in zip(byStart, byStart.dropFirst())
    where next.local < previous.range.upperBound {
      throw fail(
        "entries '\(previous.name)' and '\(next.name)' overlap: the archive is crafted or corrupt")
    }
    for entry in crcs {
      guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[entry.range])) == entry.crc else {
        throw fail("entry '\(entry.name)' fails its CRC check: the file is corrupt")
      }
    }
    self.names = names
    self.ranges = ranges
  }

  /// The bytes of entry `name`, or nil if the archive has none.
  func entry(_ name: String) -> UnsafeRawBufferPointer? {
    ranges[name].map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
  }
}
