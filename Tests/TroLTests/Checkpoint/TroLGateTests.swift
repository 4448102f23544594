import Foundation
import Testing
import TrolleyBasics

@testable import TroL

@Suite struct TroLGateTests {
  @Test(arguments: [("internlm2", 64), ("phi3", 96)])
  func fixtureGate(family: String, hidden: Int) throws {
    let gate = try TroLGate.load(
      path: CheckpointFixtures.model(family) + "/trol_gating.pt", hiddenSize: hidden, layers: 3)
    let expected = try CheckpointFixtures.json(CheckpointFixtures.expected(family, "expected.json"))
    let section = try #require(expected["gate"] as? [String: Any])
    let keys = try #require(section["trol_gating_pt_keys"] as? [String])
    #expect(gate.layerEntries * 2 == keys.count)
    #expect(Double(gate.bias) == (section["bias"] as? Double))
    #expect(gate.entriesIdentical == (section["all_layer_entries_identical"] as? Bool))
    #expect(gate.storageType == .bfloat16)
    #expect(gate.hiddenSize == hidden)
    // bf16 values widened exactly: the low 16 bits of every f32 are zero.
    #expect(gate.weight.allSatisfy { $0.bitPattern & 0xffff == 0 })
  }

  /// The golden per-token gate w = 0.5·tanh(a·g + c) + 0.5 follows from the golden a and our g, c.
  @Test(arguments: ["internlm2", "phi3"])
  func gateReproducesGoldenWeights(family: String) throws {
    let gate = try TroLGate.load(path: CheckpointFixtures.model(family) + "/trol_gating.pt")
    let tensors = try SafeTensorsFile(
      path: CheckpointFixtures.expected(family, "tensors.safetensors"))
    for layer in 0..<3 {
      let a = try tensors.floats("layer\(layer).a")
      let w = try tensors.floats("layer\(layer).w")
      let d = gate.hiddenSize
      #expect(a.count == w.count * d)
      var worst: Double = 0
      for t in 0..<w.count {
        var dot = Double(gate.bias)
        for i in 0..<d { dot += Double(a[t * d + i]) * Double(gate.weight[i]) }
        worst = max(worst, abs(0.5 * tanh(dot) + 0.5 - Double(w[t])))
      }
      #expect(worst < 1e-5, "layer \(layer): max |w - golden| = \(worst)")
    }
  }

  @Test func writerRoundTripsAndSharesStorage() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/trol_gating.pt"
    let weight: [Float] = (0..<40).map { Float($0) * 0.03125 - 0.5 }
    let written = TroLGate(weight: weight, bias: -0.25, layerEntries: 5)
    try written.write(to: path)
    let read = try TroLGate.load(path: path, hiddenSize: 40, layers: 5)
    #expect(read == written)
    let file = try TorchStateDictFile(path: path)
    #expect(file.tensors.map(\.name) == (0..<5).flatMap { ["\($0).weight", "\($0).bias"] })
    #expect(Set(file.tensors.map(\.storageKey)) == ["0", "1"])
  }

  @Test func differingEntriesUseTheLastOne() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/trol_gating.pt"
    var tensors: [TorchStateDictWriter.Tensor] = []
    for layer in 0..<3 {
      tensors.append(
        .init(
          name: "\(layer).weight", storageKey: "w\(layer)", storageType: .bfloat16, shape: [1, 4],
          values: [Float(layer), 1, 2, 3]))
      tensors.append(
        .init(
          name: "\(layer).bias", storageKey: "b\(layer)", storageType: .float, shape: [1],
          values: [0.5]))
    }
    try TorchStateDictWriter.write(tensors, to: path)
    let gate = try TroLGate.load(path: path)
    #expect(!gate.entriesIdentical)
    #expect(gate.weight == [2, 1, 2, 3])
    #expect(gate.bias == 0.5)
  }

  @Test func mismatchedDimensionsAreErrors() throws {
    let path = CheckpointFixtures.model("internlm2") + "/trol_gating.pt"
    let width = #expect(throws: TroLError.self) { try TroLGate.load(path: path, hiddenSize: 65) }
    #expect(width?.code == .invalidCheckpoint)
    let layers = #expect(throws: TroLError.self) { try TroLGate.load(path: path, layers: 4) }
    #expect(layers?.code == .invalidCheckpoint)
  }
}
