import Foundation
import Tensor
import Testing
import TroL

@testable import TroLSynthesis

/// `model synth` output at every shape passes `model inspect` and loads in the engine; its
/// safetensors header is JSON with escaped names, and the file appears only once complete.
@Suite(.serialized) struct SynthesizedShapesTests {
  static func folder(_ name: String) -> String {
    NSTemporaryDirectory() + "trolley-synth-\(name)-\(UUID().uuidString)"
  }

  /// The big shapes with one layer each (every width real, a few hundred MB to 2 GB), the tiny one
  /// whole.
  @Test(
    arguments: [
      (ModelSynthesizer.Shape.tiny, nil), (.b1_8, 1), (.b3_8, 1), (.b7, 1),
    ] as [(ModelSynthesizer.Shape, Int?)])
  func synthesizedCheckpointPassesInspectAndLoads(shape: ModelSynthesizer.Shape, layers: Int?)
    throws
  {
    let directory = Self.folder(shape.rawValue)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try ModelSynthesizer.write(shape, to: directory, seed: 1, layers: layers)

    let opened = try ModelDirectory(path: directory)
    let inspection = try ModelInspection(opened)
    #expect(inspection.findings.isEmpty, "\(inspection.findings)")
    #expect(!inspection.parts.contains { $0.kind == .other })
    let real: [ModelSynthesizer.Shape: (Family, hidden: Int, ffn: Int, vocab: Int, layers: Int)] = [
      .tiny: (.internLM2, 64, 160, 520, 3), .b1_8: (.internLM2, 2048, 8192, 92544, 24),
      .b3_8: (.phi3, 3072, 8192, 32064, 32), .b7: (.internLM2, 4096, 14336, 92544, 32),
    ]
    let expected = try #require(real[shape])
    #expect(inspection.family == expected.0)
    #expect(inspection.decoder.hiddenSize == expected.hidden)
    #expect(inspection.decoder.intermediateSize == expected.ffn)
    #expect(inspection.decoder.vocabSize == expected.vocab)
    #expect(inspection.decoder.layers == layers ?? expected.layers)
    if shape != .tiny {
      #expect(inspection.vision.hiddenSize == 1024)
      #expect(inspection.vision.intermediateSize == 4096)
      #expect(inspection.imageTokensPerTile == (shape == .b3_8 ? 256 : 1225))
    }

    // q4 keeps the 7B shape's memory small; the widths are what matters here.
    let engine = try TroLEngine.load(
      modelDirectory: directory, weights: shape == .tiny ? .f16 : .q4)
    #expect(engine.model.config == inspection.config)
    #expect(engine.model.shape.hidden == expected.hidden)
    #expect(engine.model.shape.layers == layers ?? expected.layers)
    #expect(engine.model.imageTokensPerTile == inspection.imageTokensPerTile)
    // A text-only question runs end to end (an image prompt at the real widths is minutes).
    let result = try engine.answer(
      AnswerRequest(image: nil, question: "Hi", options: GenerationOptions(maxNewTokens: 2)))
    #expect(!result.tokenIDs.isEmpty)
  }

  /// The header is valid JSON whatever the names hold, and lists exactly the tensors written.
  @Test func headerIsJSONWithEscapedNames() throws {
    let directory = Self.folder("header")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let odd = "quote\" back\\slash\nnew\tline\u{1}é"
    let tensors = [
      CheckpointTensor(odd, [2, 3], .f16, .constant(1), part: .other),
      CheckpointTensor("plain.weight", [4], .bf16, .random(std: 0.5), part: .other),
    ]
    let path = directory + "/model.safetensors"
    try ModelSynthesizer.writeWeights(tensors, to: path, seed: 1, progress: { _, _ in })
    let header = try Self.header(path)
    #expect(Set(header.keys) == ["__metadata__", odd, "plain.weight"])
    let entry = try #require(header[odd] as? [String: Any])
    #expect(entry["shape"] as? [Int] == [2, 3])
    #expect(entry["dtype"] as? String == "F16")
    // And a whole synthesized checkpoint: its header names exactly the family's tensor list.
    let tiny = Self.folder("tiny-header")
    defer { try? FileManager.default.removeItem(atPath: tiny) }
    try ModelSynthesizer.write(.tiny, to: tiny, seed: 2)
    let config = try ModelConfig.load(path: tiny + "/config.json")
    #expect(
      Set(try Self.header(tiny + "/model.safetensors").keys)
        == Set(config.tensors.map(\.name) + ["__metadata__"]))
  }

  /// While the weights are being written the file is absent (they go to `<path>.partial`); it
  /// appears whole, and no partial file is left behind.
  @Test func weightsFileAppearsAtomically() throws {
    let directory = Self.folder("atomic")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/model.safetensors"
    var checks = 0
    var last: (Int64, Int64) = (0, 0)
    try ModelSynthesizer.write(.tiny, to: directory, seed: 4) { written, total in
      #expect(written > last.0 && written <= total)
      last = (written, total)
      checks += 1
      #expect(!FileManager.default.fileExists(atPath: path))
      #expect(FileManager.default.fileExists(atPath: path + ".partial"))
    }
    #expect(checks > 0)
    // The last report is the whole: every weight byte, as the file holds them.
    #expect(last.0 == last.1)
    #expect(FileManager.default.fileExists(atPath: path))
    #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    #expect(try ModelInspection(ModelDirectory(path: directory)).findings.isEmpty)
  }

  static func header(_ path: String) throws -> [String: Any] {
    let handle = try #require(FileHandle(forReadingAtPath: path))
    defer { try? handle.close() }
    let prefix = try #require(try handle.read(upToCount: 8))
    let length = prefix.withUnsafeBytes {
      Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))
    }
    let text = try #require(try handle.read(upToCount: length))
    return try #require(try JSONSerialization.jsonObject(with: text) as? [String: Any])
  }
}
