/// A weight in a block-quantized format (or f32, for decode batches) that the shared product driver,
/// `TiledProduct`, multiplies by decoding tiles of W to f32.
///
/// Conformers provide the two format-specific pieces: exact decoding of a rectangle of W, and a
/// fused single-row product that decodes in registers. Everything else (small-batch register
/// blocking, the widen-then-sgemm prefill path, threading) is written once, in `TiledProduct`.
protocol TiledWeight: LinearWeight {
  /// Column ranges passed to `decodeTile` start at multiples of this (the quantization block).
  static var columnAlignment: Int { get }

  /// Writes W[rows, columns] widened to f32 into `tile`, row by row with `stride` floats between
  /// rows. Values must equal the format's dequantized matrix exactly.
  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int)

  /// Starts loading the bytes that `decodeTile(rows:columns:…)` will read into cache (a hint;
  /// the decode-batch kernel calls it a couple of tiles ahead).
  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level)

  /// W itself when it is stored as row-major f32: the small-batch kernel then reads it in place
  /// instead of decoding tiles. nil (the default) for compact formats.
  var f32Rows: UnsafePointer<Float>? { get }

  /// y[o] = W[o, :] · x (or `+=`) for each output row o in `rows`: the m = 1 kernel.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool)
}

// Conformers' public `LinearWeight` methods forward to these (an internal protocol's extension
// cannot satisfy a public requirement).
extension TiledWeight {
  var f32Rows: UnsafePointer<Float>? { nil }

  func tiledMultiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    TiledProduct.multiply(self, x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
  }

  func tiledCopyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    precondition(r >= 0 && r < outFeatures, "copyRow: row \(r) of \(outFeatures)")
    decodeTile(rows: r..<(r + 1), columns: 0..<inFeatures, into: destination, stride: inFeatures)
  }
}
