import Foundation
import Testing
import TroL
import TrolleyBasics

/// Hostile and broken `trol_gating.pt` files: errors, never code execution, never a crash.
@Suite struct TorchPickleMalformedTests {
  private func load(_ bytes: [UInt8]) throws -> TroLError? {
    let path = try CheckpointFixtures.scratchFile("trol_gating.pt")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try CheckpointFixtures.write(bytes, to: path)
    do {
      _ = try TroLGate.load(path: path)
      return nil
    } catch let error as TroLError {
      #expect(error.message.contains(path), "message names the file: \(error.message)")
      return error
    }
  }

  private func archive(pickle: [UInt8], extra: [(name: String, data: [UInt8])] = []) -> [UInt8] {
    ZipStoredWriter.archive(
      [("archive/data.pkl", pickle), ("archive/version", Array("3\n".utf8))] + extra)
  }

  private func global(_ module: String, _ name: String) -> [UInt8] {
    [0x63] + Array("\(module)\n\(name)\n".utf8)
  }

  private func unicode(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    return [0x8c, UInt8(bytes.count)] + bytes
  }

  @Test func osSystemViaGlobalAndReduce() throws {
    // The classic exploit: os.system("touch PWNED") via GLOBAL + REDUCE.
    let marker = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-pwned-\(UUID().uuidString)"
    ).path
    let pickle: [UInt8] =
      [0x80, 2] + global("os", "system") + unicode("touch \(marker)") + [0x85, 0x52, 0x2e]
    let error = try load(archive(pickle: pickle))
    #expect(error?.code == .invalidCheckpoint)
    #expect(error?.message.contains("os.system") == true)
    #expect(!FileManager.default.fileExists(atPath: marker))
  }

  @Test(arguments: [
    ("builtins", "eval"), ("posix", "system"), ("subprocess", "Popen"), ("torch", "load"),
    ("collections", "defaultdict"), ("torch._utils", "_rebuild_qtensor"),
  ])
  func nonWhitelistedGlobals(module: String, name: String) throws {
    let error = try load(archive(pickle: [0x80, 2] + global(module, name) + [0x29, 0x52, 0x2e]))
    #expect(error?.code == .invalidCheckpoint)
    #expect(error?.message.contains("\(module).\(name)") == true)
  }

  @Test func stackGlobalIsCheckedToo() throws {
    let pickle: [UInt8] =
      [0x80, 4] + unicode("os") + unicode("system") + [0x93] + unicode("id") + [0x85, 0x52, 0x2e]
    let error = try load(archive(pickle: pickle))
    #expect(error?.message.contains("os.system") == true)
  }

  @Test(arguments: [
    UInt8(ascii: "i"), UInt8(ascii: "o"), 0x81, 0x92, 0x82, UInt8(ascii: "P"), UInt8(ascii: "I"),
    UInt8(ascii: "S"),
    UInt8(ascii: "V"), 0x90, 0x91, 0x96, 0x97, 0x98, 0xff,
  ])
  func forbiddenOpcodes(opcode: UInt8) throws {
    let error = try load(archive(pickle: [0x80, 2, 0x7d, opcode, 0x2e]))
    #expect(error?.code == .invalidCheckpoint)
    #expect(
      error?.message.contains("opcode 0x\(String(opcode, radix: 16))") == true,
      "\(error?.message ?? "")")
  }

  @Test func malformedPicklesAreErrors() throws {
    let cases: [[UInt8]] = [
      [],  // empty
      [0x80, 2, 0x7d],  // no STOP
      [0x80, 9, 0x7d, 0x2e],  // unknown protocol
      [0x80, 2, 0x2e],  // STOP with an empty stack
      [0x80, 2, 0x7d, 0x7d, 0x2e],  // two items left
      [0x80, 2, 0x68, 7, 0x2e],  // memo key never stored
      [0x80, 2, 0x7d, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e],  // string longer than the data
      [0x80, 2, 0x7d, 0x28, 0x4b, 1, 0x75, 0x2e],  // SETITEMS with an odd count
      [0x80, 2, 0x29, 0x4b, 1, 0x73, 0x2e],  // SETITEM on a tuple
      [0x80, 2, 0x74, 0x2e],  // TUPLE without MARK
      [0x80, 2, 0x29, 0x7d, 0x62, 0x2e],  // BUILD on a tuple
      [0x80, 2, 0x5d, 0x2e],  // root is a list
      [0x80, 2] + global("collections", "OrderedDict") + [0x4b, 1, 0x85, 0x52, 0x2e],  // OrderedDict(1)
      [0x80, 2, 0x7d] + unicode("0.weight") + [0x4b, 1, 0x73, 0x2e],  // value is not a tensor
    ]
    for (index, pickle) in cases.enumerated() {
      let error = try load(archive(pickle: pickle))
      #expect(error?.code == .invalidCheckpoint, "case \(index): \(error?.message ?? "accepted")")
    }
  }

  /// Deep nesting and self-reference are handled without recursion or hangs.
  @Test func deepAndCyclicStructures() throws {
    let deep: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 300_000) + [0x2e]
    #expect(try load(archive(pickle: deep))?.code == .invalidCheckpoint)
    let cyclic: [UInt8] = [0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e]
    #expect(try load(archive(pickle: cyclic))?.code == .invalidCheckpoint)
  }

  private func tensorPickle(
    storageType: String, numel: Int, shape: [UInt8], stride: [UInt8], offset: UInt8 = 0
  )
    -> [UInt8]
  {
    var p: [UInt8] =
      [0x80, 2, 0x7d] + unicode("0.weight") + global("torch._utils", "_rebuild_tensor_v2") + [
        0x28, 0x28,
      ]
    p +=
      unicode("storage") + global("torch", storageType) + unicode("0") + unicode("cpu") + [
        0x4b, UInt8(numel), 0x74, 0x51,
      ]
    p +=
      [0x4b, offset, 0x28] + shape.flatMap { [0x4b, $0] } + [0x74, 0x28]
      + stride.flatMap { [0x4b, $0] } + [0x74]
    p += [0x89, 0x7d, 0x74, 0x52, 0x73, 0x2e]
    return p
  }

  @Test func tensorViewsAreBoundsChecked() throws {
    let storage = [UInt8](repeating: 0, count: 8)  // 4 bf16 values
    let ok = tensorPickle(storageType: "BFloat16Storage", numel: 4, shape: [1, 4], stride: [4, 1])
    // Accepted as a tensor, rejected as a gate (no bias): proves the first pickle is well-formed.
    let incomplete = try load(archive(pickle: ok, extra: [("archive/data/0", storage)]))
    #expect(incomplete?.message.contains("missing") == true, "\(incomplete?.message ?? "")")
    let pastEnd = tensorPickle(
      storageType: "BFloat16Storage", numel: 4, shape: [1, 4], stride: [4, 1], offset: 1)
    #expect(
      try load(archive(pickle: pastEnd, extra: [("archive/data/0", storage)]))?.message.contains(
        "past its storage") == true)
    let shortStorage = try load(archive(pickle: ok, extra: [("archive/data/0", [0, 0])]))
    #expect(shortStorage?.code == .invalidCheckpoint)
    let noStorage = try load(archive(pickle: ok))
    #expect(noStorage?.message.contains("missing storage") == true)
    // A zero-stride view of one element claiming 255 × 255 × 255 × 2 elements.
    let huge = tensorPickle(
      storageType: "BFloat16Storage", numel: 4, shape: [255, 255, 255, 2], stride: [0, 0, 0, 0])
    #expect(
      try load(archive(pickle: huge, extra: [("archive/data/0", storage)]))?.message.contains(
        "too large") == true)
    let integer = tensorPickle(
      storageType: "LongStorage", numel: 1, shape: [1, 1], stride: [1, 1])
    #expect(
      try load(archive(pickle: integer, extra: [("archive/data/0", storage)]))?.code
        == .unsupportedDType)
    let unknownStorage = tensorPickle(
      storageType: "QInt8Storage", numel: 4, shape: [1, 4], stride: [4, 1])
    #expect(
      try load(archive(pickle: unknownStorage, extra: [("archive/data/0", storage)]))?.code
        == .invalidCheckpoint)
  }

  private func fixtureBytes() throws -> [UInt8] {
    [UInt8](
      try Data(
        contentsOf: URL(fileURLWithPath: CheckpointFixtures.model("internlm2") + "/trol_gating.pt"))
    )
  }

  @Test func everyTruncationIsAnError() throws {
    let original = try fixtureBytes()
    // Every cut through the first entry's headers, then a stride through the rest.
    for cut in Array(0..<160) + Array(stride(from: 160, to: original.count, by: 11)) {
      #expect(try load(Array(original[..<cut]))?.code == .invalidCheckpoint, "cut at \(cut)")
    }
  }

  @Test func corruptBytesNeverCrash() throws {
    let original = try fixtureBytes()
    // Deterministic pseudo-random single-byte corruptions over the whole file: each either
    // fails cleanly or (for bytes nothing reads, e.g. padding) still loads.
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    for _ in 0..<200 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      var bytes = original
      let position = Int(state >> 33) % bytes.count
      bytes[position] ^= UInt8(truncatingIfNeeded: state >> 13) | 1
      _ = try load(bytes)
    }
    // A flipped storage byte fails the CRC check.
    var corrupt = original
    let dataEntry = try #require(
      String(decoding: original, as: UTF8.self).range(of: "trol_gating/data/0"))
    let offset = String(decoding: original, as: UTF8.self).utf8.distance(
      from: String(decoding: original, as: UTF8.self).startIndex, to: dataEntry.upperBound)
    corrupt[offset + 120] ^= 0x40
    let error = try load(corrupt)
    #expect(error?.message.contains("CRC") == true, "\(error?.message ?? "accepted")")
  }

  @Test func compressedEntriesAreRejected() throws {
    var bytes = try fixtureBytes()
    // Patch the first central-directory entry's compression method to deflate (8).
    let signature: [UInt8] = [0x50, 0x4b, 0x01, 0x02]
    let start = try #require(
      (0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == signature })
    bytes[start + 10] = 8
    let error = try load(bytes)
    #expect(error?.message.contains("compressed") == true, "\(error?.message ?? "")")
  }

  @Test func notAZipAtAll() throws {
    #expect(
      try load(Array("PK\u{3}\u{4} but not really a zip file at all, just text".utf8))?.code
        == .invalidCheckpoint)
  }
}
