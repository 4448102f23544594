internal import Tensor

/// Where a family's packed q/k/v projection puts each head within a row (offsets in floats).
struct PackedQKVLayout {
  /// Row width of the packed projection output.
  var rowWidth: Int
  /// Column of key head 0 and the distance between key heads.
  var keyColumn: Int
  var keyHeadStride: Int
  /// Column of value head 0 and the distance between value heads.
  var valueColumn: Int
  var valueHeadStride: Int
}

/// The decoder self-attention block shared by both families, after the qkv projection:
/// rotates queries and keys at each row's position, appends keys and values to the sequence's
/// cache of this propagation pass, and attends causally over the cache chain.
///
/// - Parameters:
///   - queries: [N, H·Dh] queries (row stride `queryRowStride`, heads Dh apart), rotated in place.
///   - qkv: the packed projection output the keys and values are read from.
///   - rope: the rotary embedding for a slice (Phi-3 picks short or long factors per slice).
///   - output: [N, H·Dh] attention output.
func causalSelfAttention(
  layer l: Int, batch: ForwardBatch, pass: Int, scratch: DecoderScratch,
  queries: UnsafeMutablePointer<Float>, queryRowStride: Int, qkv: UnsafePointer<Float>,
  layout: PackedQKVLayout, rope: (ForwardBatch.Slice) -> RotaryEmbedding,
  output: UnsafeMutablePointer<Float>
) {
  let shape = scratch.shape
  let H = shape.heads
  let Hkv = shape.keyValueHeads
  let Dh = shape.headDim
  let table = scratch.ropeTable
  for slice in batch.slices {
    let cache = slice.caches[pass]
    let embedding = rope(slice)
    let ownStart = cache.ownLength
    for i in 0..<slice.rows {
      let r = slice.rowStart + i
      embedding.fillTable(table, position: cache.length + i)
      embedding.rotate(queries + r * queryRowStride, heads: H, headStride: Dh, table: table)
      let row = qkv + r * layout.rowWidth
      for kvHead in 0..<Hkv {
        let key = cache.keySlot(layer: l, head: kvHead, position: ownStart + i)
        key.update(from: row + layout.keyColumn + kvHead * layout.keyHeadStride, count: Dh)
        embedding.rotate(key, heads: 1, headStride: Dh, table: table)
        cache.valueSlot(layer: l, head: kvHead, position: ownStart + i)
          .update(from: row + layout.valueColumn + kvHead * layout.valueHeadStride, count: Dh)
      }
    }
    let chunkCount = cache.chunks(
      layer: l, pending: slice.rows, into: scratch.chunks, limit: DecoderScratch.chunkLimit)
    let attentionShape = AttentionShape(
      queries: slice.rows, keys: cache.length + slice.rows, heads: H, keyValueHeads: Hkv,
      headDim: Dh,
      causal: true, scale: 1 / Float(Dh).squareRoot())
    attention(
      query: AttentionOperand(
        base: queries + slice.rowStart * queryRowStride, rowStride: queryRowStride, headStride: Dh),
      chunks: UnsafeBufferPointer(start: scratch.chunks, count: chunkCount),
      output: AttentionOperand(
        base: output + slice.rowStart * H * Dh, rowStride: H * Dh, headStride: Dh),
      shape: attentionShape, scores: scratch.scores)
  }
}
