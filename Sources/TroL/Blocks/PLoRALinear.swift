public import Tensor

/// InternLM-XComposer2's Partial LoRA: y = x·Wᵀ for every token, plus (x·Aᵀ)·Bᵀ·(α/r) for image
/// tokens only. TroL keeps α = r = 256, so the scale is 1 and is not applied.
///
/// Keys: `<prefix>.ffn.weight` [out, in], `<prefix>.lora_A.weight` [R, in], `<prefix>.lora_B.weight` [out, R].
public struct PLoRALinear: Sendable {
  /// W [out, in], the base matrix every token uses.
  public let base: any LinearWeight
  /// A [R, in].
  public let loraA: any LinearWeight
  /// B [out, R].
  public let loraB: any LinearWeight

  init(_ loader: WeightLoader, _ prefix: String, out: Int, in inFeatures: Int, rank: Int) throws {
    base = try loader.linear(prefix + ".ffn.weight", out: out, in: inFeatures)
    loraA = try loader.linear(prefix + ".lora_A.weight", out: rank, in: inFeatures)
    loraB = try loader.linear(prefix + ".lora_B.weight", out: out, in: rank)
  }

  /// y[rows, out] = x·Wᵀ, then y[r] += B·A·x[r] for each r in `imageRows`.
  ///
  /// - Parameters:
  ///   - imageRows: row indices (ascending) of image tokens; empty for text-only and decode batches.
  ///   - gathered: scratch of at least |imageRows|·max(in, out) floats.
  ///   - low: scratch of at least |imageRows|·R floats.
  func apply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
    imageRows: UnsafeBufferPointer<Int32>, gathered: UnsafeMutablePointer<Float>,
    low: UnsafeMutablePointer<Float>, scratch: MatmulScratch
  ) {
    base.multiply(x, rows: rows, into: y, accumulate: false, scratch: scratch)
    let n = imageRows.count
    if n == 0 { return }
    let inFeatures = base.inFeatures
    let outFeatures = base.outFeatures
    for (i, r) in imageRows.enumerated() {
      (gathered + i * inFeatures).update(from: x + Int(r) * inFeatures, count: inFeatures)
    }
    loraA.multiply(gathered, rows: n, into: low, accumulate: false, scratch: scratch)
    loraB.multiply(low, rows: n, into: gathered, accumulate: false, scratch: scratch)
    for (i, r) in imageRows.enumerated() {
      addInPlace(y + Int(r) * outFeatures, gathered + i * outFeatures, count: outFeatures)
    }
  }
}
