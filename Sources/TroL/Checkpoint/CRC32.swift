/// The CRC-32 of zip archives (IEEE 802.3 polynomial, reflected), to detect corrupt entries.
package enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 { value = (value & 1) != 0 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
    return value
  }

  /// The checksum of `bytes`, continuing from `crc` (0 for a fresh checksum).
  package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0)
    -> UInt32
  {
    var value = ~crc
    table.withUnsafeBufferPointer { table in
      for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xff)] ^ (value >> 8) }
    }
    return ~value
  }
}
