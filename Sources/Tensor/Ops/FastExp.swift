/// A vectorized e^x with about 1 ulp of error over the float range (Cephes' `expf` recipe:
/// x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, then 2^n from the exponent bits).
///
/// Softmax and SiLU call this for every element of every layer, so it must not fall back to a
/// scalar libm call per lane. Inputs below -87.3 give ~1e-38 rather than 0; callers that need an
/// exact zero (masked attention scores) skip those elements instead.
@inlinable @inline(__always)
public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
  // Clamped with blends: `clamped(lowerBound:upperBound:)` stayed a generic call per vector.
  var clamped = x
  let low = SIMD8<Float>(repeating: -87.33654)
  let high = SIMD8<Float>(repeating: 88.72283)
  clamped.replace(with: low, where: clamped .< low)
  clamped.replace(with: high, where: clamped .> high)
  // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: its low mantissa bits are n.
  let magic = SIMD8<Float>(repeating: 12_582_912)
  let shifted = clamped * 1.442_695_04 + magic
  let n = shifted - magic
  // r = x − n·ln2, with ln2 split in two parts so the subtraction is exact.
  var r = clamped - n * 0.693_359_375
  r = r + n * 2.121_944_4e-4
  var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
  p = p * r + 1.398_199_95e-3
  p = p * r + 8.333_451_9e-3
  p = p * r + 4.166_579_59e-2
  p = p * r + 1.666_666_55e-1
  p = p * r + 5.000_000_12e-1
  p = p * (r * r) + r + 1
  let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
  let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
  return p * scale
}
