import Foundation
import Tensor
import Testing
import TroL

@Suite struct SafeTensorsWriterTests {
  @Test func roundTripsEveryDTypeWithChunks() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/out.safetensors"
    let values: [Float] = (0..<600).map { Float($0) / 7 - 40 }
    let writer = try SafeTensorsWriter(
      path: path,
      tensors: [
        .init(name: "f32", dtype: .f32, shape: [20, 30]),
        .init(name: "empty", dtype: .f16, shape: [0, 4]),
        .init(name: "f16", dtype: .f16, shape: [600]),
        .init(name: "bf16", dtype: .bf16, shape: [2, 300]),
        .init(name: "ids \"quoted\"", dtype: .i64, shape: [3]),
        .init(name: "mask", dtype: .u8, shape: [4]),
      ], metadata: ["format": "pt", "note": "line\nbreak"])
    #expect(writer.currentTensor == "f32")
    for start in stride(from: 0, to: 600, by: 250) {
      try writer.append(floats: Array(values[start..<min(600, start + 250)]))
    }
    #expect(writer.currentTensor == "f16")  // the empty tensor needs no bytes
    try writer.append(floats: values)
    try writer.append(floats: values)
    try writer.append(int64s: [-1, 0, 1 << 40])
    try writer.append(uint8s: [0, 1, 255, 7])
    #expect(writer.currentTensor == nil)
    #expect(!FileManager.default.fileExists(atPath: path))
    try writer.finish()

    let file = try SafeTensorsFile(path: path)
    #expect(file.metadata == ["format": "pt", "note": "line\nbreak"])
    #expect(file.names.sorted() == ["bf16", "empty", "f16", "f32", "ids \"quoted\"", "mask"])
    #expect(try file.floats("f32") == values)
    #expect(try file.info("f32").shape == [20, 30])
    #expect(try file.floats("empty").isEmpty)
    #expect(
      try file.floats("f16")
        == values.map { HalfConversion.f16ToFloatReference(HalfConversion.floatToF16Reference($0)) }
    )
    #expect(
      try file.floats("bf16")
        == values.map { Float(bitPattern: UInt32(HalfConversion.floatToBF16Reference($0)) << 16) })
    #expect(try file.int64s("ids \"quoted\"") == [-1, 0, 1 << 40])
    #expect(try file.uint8s("mask") == [0, 1, 255, 7])
    // Data starts 8-byte aligned.
    let headerLength = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8).withUnsafeBytes {
      $0.loadUnaligned(as: UInt64.self)
    }
    #expect((8 + headerLength) % 8 == 0)
  }

  @Test func rewritingAFixtureReproducesItsTensors() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let source = try SafeTensorsFile(path: CheckpointFixtures.model("phi3") + "/model.safetensors")
    let specs = try source.names.map { name -> SafeTensorsWriter.TensorSpec in
      let info = try source.info(name)
      return .init(name: name, dtype: info.dtype, shape: info.shape)
    }
    let path = folder + "/copy.safetensors"
    let writer = try SafeTensorsWriter(path: path, tensors: specs)
    for name in source.names { try writer.append(floats: try source.floats(name)) }
    try writer.finish()
    let copy = try SafeTensorsFile(path: path)
    for name in source.names {
      #expect(Array(try copy.bytes(name)) == Array(try source.bytes(name)), "\(name)")
    }
  }

  @Test func misuseIsAnErrorAndLeavesNoFile() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/bad.safetensors"
    #expect(throws: TroLError.self) {
      try SafeTensorsWriter(
        path: path,
        tensors: [
          .init(name: "a", dtype: .f32, shape: [1]), .init(name: "a", dtype: .f32, shape: [1]),
        ])
    }
    do {
      let writer = try SafeTensorsWriter(
        path: path,
        tensors: [
          .init(name: "a", dtype: .f32, shape: [2]), .init(name: "b", dtype: .i64, shape: [1]),
        ])
      #expect(throws: TroLError.self) { try writer.append(floats: [1, 2, 3]) }
      #expect(throws: TroLError.self) { try writer.append(int64s: [1]) }  // current is still "a"
      try writer.append(floats: [1, 2])
      #expect(throws: TroLError.self) { try writer.append(floats: [1]) }  // "b" is I64
      #expect(throws: TroLError.self) { try writer.finish() }  // "b" not written
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
  }
}
