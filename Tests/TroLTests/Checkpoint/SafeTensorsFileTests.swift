import Foundation
import Tensor
import Testing
import TroL
import TrolleyBasics

@Suite struct SafeTensorsFileTests {
  @Test(arguments: [("internlm2", 97, "F16"), ("phi3", 59, "BF16")])
  func fixtureHasEveryReadmeTensor(family: String, count: Int, dtype: String) throws {
    let file = try SafeTensorsFile(path: CheckpointFixtures.model(family) + "/model.safetensors")
    let readme = try CheckpointFixtures.readmeTensors(family)
    #expect(readme.count == count)
    #expect(file.count == count)
    #expect(file.metadata["format"] == "pt")
    for (name, expected) in readme {
      let info = try file.info(name)
      #expect(info.shape == expected.shape, "\(name)")
      #expect(info.dtype.rawValue == expected.dtype, "\(name)")
      #expect(expected.dtype == dtype)
      let raw = try file.tensor(name, shape: expected.shape)
      #expect(raw.count == expected.shape.reduce(1, *))
      #expect(raw.dtype.rawValue == dtype)
    }
  }

  /// Decodes the raw bits with the IEEE formulas in Double, independently of the reader's table.
  @Test func f16WidensExactly() throws {
    let file = try SafeTensorsFile(
      path: CheckpointFixtures.model("internlm2") + "/model.safetensors")
    for name in ["model.tok_embeddings.weight", "vision_proj.0.bias", "model.norm.weight"] {
      let floats = try file.floats(name)
      let bytes = try file.bytes(name)
      #expect(floats.count * 2 == bytes.count)
      for i in 0..<floats.count {
        let (expected, exponent) = ieeeValue(bytes, at: i, exponentBits: 5)
        #expect(exponent != 31)
        #expect(Double(floats[i]) == expected, "\(name)[\(i)]")
      }
    }
  }

  @Test func bf16WidensExactly() throws {
    let file = try SafeTensorsFile(path: CheckpointFixtures.model("phi3") + "/model.safetensors")
    for name in ["language_model.model.embed_tokens.weight", "vision_model.encoder.layers.0.ls1"] {
      let floats = try file.floats(name)
      let bytes = try file.bytes(name)
      for i in 0..<floats.count {
        let (expected, _) = ieeeValue(bytes, at: i, exponentBits: 8)
        #expect(Double(floats[i]) == expected, "\(name)[\(i)]")
      }
    }
  }

  @Test(arguments: ["internlm2", "phi3"])
  func goldenIntegerTensors(family: String) throws {
    let file = try SafeTensorsFile(path: CheckpointFixtures.expected(family, "tensors.safetensors"))
    let ids = try file.int64s("input_ids")
    let expected = try CheckpointFixtures.json(CheckpointFixtures.expected(family, "expected.json"))
    let prompt = try #require(expected["prompt"] as? [String: Any])
    let promptIDs = try #require(prompt["ids"] as? [Int])
    #expect(ids.map(Int.init) == promptIDs)
    #expect(try file.info("input_ids").shape == [1, promptIDs.count])
    let image = try file.uint8s("image_u8")
    #expect(image.count == (try file.info("image_u8").count))
    // Integer tensors are not weights.
    #expect(throws: TroLError(.unsupportedDType, "")) { try file.tensor("input_ids") }
    #expect(throws: TroLError(.unsupportedDType, "")) { try file.int64s("prefill_logits_last") }
    #expect(
      try file.floats("prefill_logits_last").count == (try file.info("prefill_logits_last").count))
  }

  @Test func missingTensorAndWrongShapeAreErrors() throws {
    let file = try SafeTensorsFile(
      path: CheckpointFixtures.model("internlm2") + "/model.safetensors")
    let missing = #expect(throws: TroLError.self) {
      try file.tensor("model.layers.9.attention.wo.ffn.weight")
    }
    #expect(missing?.code == .missingTensor)
    #expect(missing?.message.contains("model.layers.9.attention.wo.ffn.weight") == true)
    let shape = #expect(throws: TroLError.self) {
      try file.tensor("model.norm.weight", shape: [65])
    }
    #expect(shape?.code == .invalidCheckpoint)
    #expect(shape?.message.contains("model.norm.weight") == true)
  }
}

/// The value of little-endian 16-bit float `i` of `bytes` by the IEEE 754 formulas in Double
/// (sign, `exponentBits` of biased exponent, the rest mantissa: 5 for f16, 8 for bf16), and its
/// biased exponent field.
private func ieeeValue(
  _ bytes: UnsafeRawBufferPointer, at i: Int, exponentBits: Int
) -> (Double, exponent: Int) {
  let bits = UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8
  let mantissaBits = 15 - exponentBits
  let bias = (1 << (exponentBits - 1)) - 1
  let sign: Double = bits & 0x8000 != 0 ? -1 : 1
  let exponent = Int(bits >> mantissaBits) & ((1 << exponentBits) - 1)
  let mantissa = Double(Int(bits) & ((1 << mantissaBits) - 1))
  let value: Double =
    exponent == 0
    ? sign * mantissa * pow(2, Double(1 - bias - mantissaBits))
    : sign * (1 + mantissa / Double(1 << mantissaBits)) * pow(2, Double(exponent - bias))
  return (value, exponent)
}
