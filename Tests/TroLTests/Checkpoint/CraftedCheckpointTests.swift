import Foundation
import Testing
import TroL
import TrolleyBasics

/// Crafted `trol_gating.pt` files that used to trap or hang the reader (issue 13, item 10): each
/// must end in a clear error (or a correct read) at once.
@Suite struct CraftedCheckpointTests {
  private func global(_ module: String, _ name: String) -> [UInt8] {
    [0x63] + Array("\(module)\n\(name)\n".utf8)
  }

  private func unicode(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    return [0x8c, UInt8(bytes.count)] + bytes
  }

  /// `_rebuild_tensor_v2(persistent storage of `numel` floats under key "0", 0, (1,), (1,), False,
  /// OrderedDict())`, as the bytes that push it.
  private func tensor(numel: [UInt8]) -> [UInt8] {
    global("torch._utils", "_rebuild_tensor_v2") + [0x28]
      + [0x28] + unicode("storage") + global("torch", "FloatStorage") + unicode("0")
      + unicode("cpu") + [0x8a, UInt8(numel.count)] + numel + [0x74, 0x51]
      + [0x4b, 0] + [0x28, 0x4b, 1, 0x74] + [0x28, 0x4b, 1, 0x74] + [0x89]
      + global("collections", "OrderedDict") + [0x29, 0x52]
      + [0x74, 0x52]
  }

  private func gate(pickle: [UInt8], storage: [UInt8]) throws -> String {
    let path = try CheckpointFixtures.scratchFile("trol_gating.pt")
    try CheckpointFixtures.write(
      ZipStoredWriter.archive([
        ("archive/data.pkl", pickle), ("archive/version", Array("3\n".utf8)),
        ("archive/data/0", storage),
      ]), to: path)
    return path
  }

  @Test func aStorageWhoseByteSizeOverflowsIsAnError() throws {
    // numel = 2^62: times 4 bytes per float overflows Int.
    let numel: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x40]
    let pickle =
      [0x80, 2] + global("collections", "OrderedDict") + [0x29, 0x52, 0x28] + unicode("w")
      + tensor(numel: numel) + [0x75, 0x2e]
    let path = try gate(pickle: pickle, storage: [0, 0, 0x80, 0x3f])
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect {
      _ = try TorchStateDictFile(path: path)
    } throws: { error in
      guard let error = error as? TroLError else { return false }
      return error.code == .invalidCheckpoint && error.message.contains("storage")
    }
  }

  @Test func aMillionDuplicateKeysAreReadInLinearTime() throws {
    // 1,000 keys, then the last one repeated a million times, all naming one memoized tensor.
    var pickle: [UInt8] =
      [0x80, 2] + global("collections", "OrderedDict") + [0x29, 0x52]
    func key(_ index: Int) -> [UInt8] { unicode("layer.\(index)") }
    let getTensor: [UInt8] = [0x68, 0]  // BINGET 0
    var keys: [[UInt8]] = (0..<1000).map(key)
    keys += [[UInt8]](repeating: key(999), count: 1_000_000)
    for chunk in stride(from: 0, to: keys.count, by: 10_000) {
      pickle.append(0x28)  // MARK
      for index in chunk..<min(chunk + 10_000, keys.count) {
        // The first value is built once and kept in the memo (BINPUT 0); the rest fetch it.
        pickle += keys[index] + (index == 0 ? tensor(numel: [1]) + [0x71, 0] : getTensor)
      }
      pickle.append(0x75)  // SETITEMS
    }
    pickle.append(0x2e)
    let path = try gate(pickle: pickle, storage: [0, 0, 0x80, 0x3f])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try TorchStateDictFile(path: path)
    #expect(file.tensors.count == 1000)
    #expect(file.tensors.last?.name == "layer.999")
    #expect(file.tensors.last?.values == [1])
  }

  @Test func overlappingZipEntriesAreRejectedBeforeAnyChecksum() throws {
    // One 4 MiB entry, and a central directory of 65,534 entries that all point at it: checking
    // each entry's CRC would read 256 GiB.
    let data = [UInt8](repeating: 0x55, count: 4 << 20)
    let crc = Self.crc32(data)
    var file: [UInt8] = []
    func u16(_ value: Int) { file += [UInt8(value & 0xff), UInt8(value >> 8 & 0xff)] }
    func u32(_ value: Int) {
      for shift in stride(from: 0, to: 32, by: 8) { file.append(UInt8(value >> shift & 0xff)) }
    }
    // From the flags to the extra field's length, local and central headers say the same:
    // no flags, stored, no time, the CRC and size (twice: not compressed), the name's length.
    func sharedFields(nameLength: Int) {
      for _ in 0..<4 { u16(0) }
      u32(Int(crc))
      u32(data.count)
      u32(data.count)
      u16(nameLength)
      u16(0)
    }
    let local = Array("archive/data/0".utf8)
    u32(0x0403_4b50)
    u16(20)
    sharedFields(nameLength: local.count)
    file += local + data
    let directoryOffset = file.count
    let count = 65_534  // 65,535 would announce a zip64 archive
    for index in 0..<count {
      let name = Array("archive/data/\(index)".utf8)
      u32(0x0201_4b50)
      u16(20)
      u16(20)
      sharedFields(nameLength: name.count)
      u16(0)
      u16(0)
      u16(0)
      u32(0)
      u32(0)
      file += name
    }
    let directorySize = file.count - directoryOffset
    u32(0x0605_4b50)
    u16(0)
    u16(0)
    u16(count)
    u16(count)
    u32(directorySize)
    u32(directoryOffset)
    u16(0)
    let path = try CheckpointFixtures.scratchFile("trol_gating.pt")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try CheckpointFixtures.write(file, to: path)
    #expect {
      _ = try TorchStateDictFile(path: path)
    } throws: { error in
      guard let error = error as? TroLError else { return false }
      return error.code == .invalidCheckpoint && error.message.contains("overlap")
    }
  }

  /// CRC-32 (IEEE), bit by bit: the reference the archive's checksums are compared with.
  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for index in 0..<256 {
      var value = UInt32(index)
      for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
      table[index] = value
    }
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
  }
}
