internal import Tensor

/// A family's vision tower and projector together: pixels in, decoder-width image tokens out.
protocol ImageEncoder: Sendable {
  /// Side of the square tile the tower takes, in pixels.
  var imageSize: Int { get }
  /// Image tokens per tile.
  var tokensPerTile: Int { get }
  /// output[tiles · tokensPerTile, D] = projector(tower(tile)) for normalized pixels
  /// [tiles, 3, S, S]; traces `vision` (the tower's output) through `tracer`.
  ///
  /// - Throws: `invalidRequest` when the tower cannot take that many tiles.
  func encode(
    _ pixels: UnsafePointer<Float>, tiles: Int, into output: UnsafeMutablePointer<Float>,
    hidden D: Int, tracer: Tracer?) throws
}
