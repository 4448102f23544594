import Foundation
import Testing
import TroL
import TrolleyBasics

/// Every malformed file is an error with a code and a message naming the file; none crashes.
@Suite struct SafeTensorsMalformedTests {
  /// A file with `header` (as given) followed by `dataBytes` zero bytes.
  private func file(header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    var length = (declaredLength ?? UInt64(json.count)).littleEndian
    return withUnsafeBytes(of: &length) { Array($0) } + json
      + [UInt8](repeating: 0, count: dataBytes)
  }

  private func open(_ bytes: [UInt8]) throws -> TroLError? {
    let path = try CheckpointFixtures.scratchFile("model.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try CheckpointFixtures.write(bytes, to: path)
    do {
      let file = try SafeTensorsFile(path: path)
      for name in file.names { _ = try file.tensor(name) }
      return nil
    } catch let error as TroLError {
      #expect(error.message.contains(path), "message names the file: \(error.message)")
      return error
    }
  }

  @Test(arguments: [
    ("empty file", [UInt8]()),
    ("shorter than the length field", [UInt8]([1, 0, 0])),
  ])
  func truncatedBeforeHeader(label: String, bytes: [UInt8]) throws {
    #expect(try open(bytes)?.code == .invalidCheckpoint, "\(label)")
  }

  @Test func insaneHeaderLengths() throws {
    #expect(try open(file(header: "{}", declaredLength: 1 << 40))?.code == .invalidCheckpoint)
    #expect(try open(file(header: "{}", declaredLength: 0))?.code == .invalidCheckpoint)
    // Declares more header bytes than the file holds.
    #expect(try open(file(header: "{}", declaredLength: 4096))?.code == .invalidCheckpoint)
  }

  @Test(arguments: [
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#,  // cut JSON
    #"[1,2,3]"#,  // not an object
    #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#,  // no dtype
    #"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#,  // fractional dimension
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}"#,  // three offsets
    #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,  // negative dimension
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,  // begin > end
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}"#,  // out of bounds
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#,  // negative offset
    #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,  // size mismatch
    #"{"a":{"dtype":"F16","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#,  // overflow
    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,  // overlap
    #"{"__metadata__":{"format":7}}"#,  // metadata values must be strings
  ])
  func lyingOrMalformedHeader(header: String) throws {
    let error = try open(file(header: header, dataBytes: 16))
    #expect(error?.code == .invalidCheckpoint, "\(header): \(error?.message ?? "no error")")
  }

  @Test func deeplyNestedJSON() throws {
    let nested =
      "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
      + "}"
    #expect(try open(file(header: nested))?.code == .invalidCheckpoint)
    let config = #expect(throws: TroLError.self) {
      try ModelConfig(json: Array(nested.utf8), source: "cfg.json")
    }
    #expect(config?.code == .invalidConfig)
  }

  @Test func unknownDType() throws {
    let error = try open(
      file(header: #"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}"#, dataBytes: 1))
    #expect(error?.code == .unsupportedDType)
    #expect(error?.message.contains("'a'") == true)
  }

  @Test func integerTensorIsNotAWeight() throws {
    let error = try open(
      file(header: #"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#, dataBytes: 16))
    #expect(error?.code == .unsupportedDType)
    #expect(error?.message.contains("ids") == true)
  }

  @Test func validEdgeCasesAreAccepted() throws {
    // Empty tensors, holes between tensors and trailing metadata are all legal.
    #expect(try open(file(header: "{}")) == nil)
    #expect(
      try open(
        file(
          header:
            #"{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"x":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#,
          dataBytes: 8)) == nil)
  }

  /// Every prefix of a real checkpoint is rejected cleanly.
  @Test func everyTruncationOfTheFixtureIsAnError() throws {
    let original = [UInt8](
      try Data(
        contentsOf: URL(fileURLWithPath: CheckpointFixtures.model("phi3") + "/model.safetensors")))
    var cut = 0
    while cut < original.count {
      let error = try open(Array(original[..<cut]))
      #expect(error?.code == .invalidCheckpoint, "cut at \(cut)")
      cut += cut < 12_000 ? 997 : 65_521
    }
  }

  /// Random byte corruptions in the length field and header: a clean error or a valid file.
  @Test func corruptHeaderBytesNeverCrash() throws {
    let original = [UInt8](
      try Data(
        contentsOf: URL(
          fileURLWithPath: CheckpointFixtures.model("internlm2") + "/model.safetensors")))
    let headerEnd = 8 + Int(original[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    var state: UInt64 = 0x2545_f491_4f6c_dd1d
    var rejected = 0
    for _ in 0..<200 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      var bytes = original
      let position = Int(state >> 33) % headerEnd
      bytes[position] ^= UInt8(truncatingIfNeeded: state >> 13) | 1
      if try open(bytes) != nil { rejected += 1 }
    }
    // Most single-byte changes to the JSON are caught (a digit inside a name can survive).
    #expect(rejected > 100)
  }
}
