internal import Foundation
public import Tensor
import TrolleyBasics

/// A PEFT LoRA adapter kept beside a checkpoint (`adapter_config.json` +
/// `adapter_model.safetensors`, as `trolley train export --adapter` writes it), merged into the
/// base weights when the model loads.
///
/// Keys: `base_model.model.<module>.lora_A.weight` [r, in] and `…lora_B.weight` [out, r], where
/// `<module>` is the base Linear's path (InternLM2: `….attention.wqkv.ffn`, the matrix inside the
/// Partial-LoRA wrapper; Phi-3: `….self_attn.qkv_proj`). The merge is `PEFTAdapter.merge`, the
/// same function the merged export uses, so both load to identical weights.
public struct PEFTAdapter: Sendable {
  public static let configFile = "adapter_config.json"
  public static let weightsFile = "adapter_model.safetensors"

  let file: SafeTensorsFile
  /// α / r.
  public let scale: Float

  /// The adapter in `directory`, or nil when it has none.
  ///
  /// - Throws: `TroLError.invalidConfig` for an adapter_config.json without `r` and `lora_alpha`.
  public static func load(directory: String) throws -> PEFTAdapter? {
    let weights = ModelDirectory.join(directory, weightsFile)
    guard FileManager.default.fileExists(atPath: weights) else { return nil }
    let configPath = ModelDirectory.join(directory, configFile)
    guard let data = FileManager.default.contents(atPath: configPath),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let r = (object["r"] as? NSNumber)?.doubleValue,
      let alpha = (object["lora_alpha"] as? NSNumber)?.doubleValue, r > 0
    else {
      throw TroLError(
        .invalidConfig,
        "\(configPath): an adapter needs adapter_config.json with numeric r and lora_alpha (PEFT's layout)"
      )
    }
    return PEFTAdapter(file: try SafeTensorsFile(path: weights), scale: Float(alpha / r))
  }

  /// W + scale·B·A in f32 (W [out, in], A [r, in], B [out, r]), summed in a fixed order.
  public static func merge(base: [Float], a: [Float], b: [Float], rank: Int, scale: Float)
    -> [Float]
  {
    let inFeatures = a.count / rank
    let out = b.count / rank
    var merged = base
    for o in 0..<out {
      for c in 0..<inFeatures {
        var sum: Float = 0
        for k in 0..<rank { sum += b[o * rank + k] * a[k * inFeatures + c] }
        merged[o * inFeatures + c] += scale * sum
      }
    }
    return merged
  }

  /// `raw` (checkpoint key `key`) with the adapter merged in when the adapter covers it.
  func applied(to raw: RawTensorData, key: String) throws -> RawTensorData {
    guard key.hasSuffix(".weight") else { return raw }
    let module = "base_model.model." + key.dropLast(".weight".count)
    let aKey = module + ".lora_A.weight"
    let bKey = module + ".lora_B.weight"
    guard file.contains(aKey), file.contains(bKey) else { return raw }
    let a = try file.floats(aKey)
    let b = try file.floats(bKey)
    let rank = try file.info(aKey).shape.first ?? 0
    guard rank > 0, raw.shape.count == 2, a.count == rank * raw.shape[1],
      b.count == raw.shape[0] * rank
    else {
      throw TroLError(
        .invalidCheckpoint,
        "\(file.path): \(aKey) / \(bKey) do not fit \(key) of shape \(raw.shape)")
    }
    let merged = Self.merge(
      base: HalfConversion.floats(raw), a: a, b: b, rank: rank, scale: scale)
    return RawTensorData(copying: merged, shape: raw.shape, dtype: raw.dtype)
  }
}
