/// Builds a zip archive of stored (uncompressed) entries the way `torch.save` lays them out:
/// every entry's data aligned to 64 bytes by padding the local header's extra field.
public enum ZipStoredWriter {
  /// The archive bytes for `entries`, in order.
  ///
  /// - Parameters:
  ///   - entries: names (ASCII, `/`-separated) and contents; each must be below 4 GiB.
  ///   - alignment: the data alignment in bytes (64, as PyTorch).
  public static func archive(_ entries: [(name: String, data: [UInt8])], alignment: Int = 64)
    -> [UInt8]
  {
    precondition(entries.count < 0xffff, "ZipStoredWriter: \(entries.count) entries need zip64")
    var out: [UInt8] = []
    var directory: [UInt8] = []
    func u16(_ value: Int, _ buffer: inout [UInt8]) {
      buffer.append(UInt8(value & 0xff))
      buffer.append(UInt8((value >> 8) & 0xff))
    }
    func u32(_ value: Int, _ buffer: inout [UInt8]) {
      for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8((value >> shift) & 0xff)) }
    }
    for (name, data) in entries {
      precondition(data.count < 0xffff_ffff, "ZipStoredWriter: entry '\(name)' needs zip64")
      let nameBytes = Array(name.utf8)
      let crc = Int(data.withUnsafeBytes { CRC32.checksum($0) })
      let headerOffset = out.count
      // 'FB' extra field padded with 'Z' so the data starts on an `alignment` boundary.
      let unpadded = headerOffset + 30 + nameBytes.count + 4
      let padding = (alignment - unpadded % alignment) % alignment
      var header: [UInt8] = []
      u32(0x0403_4b50, &header)
      u16(0, &header)  // version needed
      u16(0, &header)  // flags
      u16(0, &header)  // stored
      u16(0, &header)
      u16(0x21, &header)  // time, date (1980-01-01)
      u32(crc, &header)
      u32(data.count, &header)
      u32(data.count, &header)
      u16(nameBytes.count, &header)
      u16(4 + padding, &header)
      header += nameBytes
      u16(0x4246, &header)
      u16(padding, &header)
      header += [UInt8](repeating: UInt8(ascii: "Z"), count: padding)
      out += header
      out += data

      u32(0x0201_4b50, &directory)
      u16(0, &directory)
      u16(0, &directory)  // version made by, needed
      u16(0, &directory)
      u16(0, &directory)  // flags, stored
      u16(0, &directory)
      u16(0x21, &directory)
      u32(crc, &directory)
      u32(data.count, &directory)
      u32(data.count, &directory)
      u16(nameBytes.count, &directory)
      u16(0, &directory)
      u16(0, &directory)  // name, extra, comment
      u16(0, &directory)
      u16(0, &directory)
      u32(0, &directory)  // disk, internal, external attributes
      u32(headerOffset, &directory)
      directory += nameBytes
    }
    let directoryOffset = out.count
    out += directory
    u32(0x0605_4b50, &out)
    u16(0, &out)
    u16(0, &out)
    u16(entries.count, &out)
    u16(entries.count, &out)
    u32(directory.count, &out)
    u32(directoryOffset, &out)
    u16(0, &out)
    return out
  }
}
