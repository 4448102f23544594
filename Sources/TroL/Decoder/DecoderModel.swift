package import Tensor
import TrolleyBasics

/// Dimensions every decoder family shares (see the legend in each family file).
public struct DecoderShape: Sendable {
  /// D.
  public var hidden: Int
  /// L.
  public var layers: Int
  /// H.
  public var heads: Int
  /// Hkv.
  public var keyValueHeads: Int
  /// Dh.
  public var headDim: Int
  /// F: the MLP's inner width.
  public var intermediate: Int
  /// V: rows of the LM head (ids the model can produce).
  public var vocabulary: Int
  /// Rows of the embedding table (InternLM2 has one more: the `<image>` placeholder).
  public var embeddingRows: Int
  /// Width of the packed q/k/v projection output.
  public var qkvWidth: Int { (heads + 2 * keyValueHeads) * headDim }
  /// The widest LoRA rank any projection uses (0 when there is no PLoRA).
  public var loraRank: Int

  /// The legend's letters at once: D, F, H, Hkv and Dh.
  package var letters: (D: Int, F: Int, H: Int, Hkv: Int, Dh: Int) {
    (hidden, intermediate, heads, keyValueHeads, headDim)
  }
}

extension DecoderShape {
  /// The shape config.json gives a family's decoder (Dh = D / H), checked against the TroL gate,
  /// which mixes every layer's D-wide hidden states.
  ///
  /// - Throws: `TroLError.invalidCheckpoint` when the gate's width is not `hidden`.
  init(
    gate: TroLGate, hidden: Int, layers: Int, heads: Int, keyValueHeads: Int, intermediate: Int,
    vocabulary: Int, embeddingRows: Int, loraRank: Int
  ) throws {
    guard gate.weight.count == hidden else {
      throw TroLError(
        .invalidCheckpoint,
        "trol_gating.pt: gate width \(gate.weight.count) but hidden_size is \(hidden)")
    }
    self.init(
      hidden: hidden, layers: layers, heads: heads, keyValueHeads: keyValueHeads,
      headDim: hidden / heads, intermediate: intermediate, vocabulary: vocabulary,
      embeddingRows: embeddingRows, loraRank: loraRank)
  }
}

/// A decoder family (InternLM2, Phi-3): embeddings, one layer at a time, final norm and head.
///
/// Layers do not know about traversal: `Traversal` calls `layer` once per propagation, with the
/// pass index choosing which KV caches the batch's sequences read and write.
package protocol DecoderModel: Sendable {
  var shape: DecoderShape { get }
  /// The TroL-Mixer gate shared by all layers.
  var gate: TroLGate { get }
  /// [embeddingRows, D] token embeddings.
  var embeddings: any LinearWeight { get }
  /// [D] the final RMSNorm's weight.
  var finalNorm: [Float] { get }
  /// [V, D] the LM head.
  var head: any LinearWeight { get }
  /// RMSNorm epsilon, as the kernels take it.
  var eps: Float { get }
  /// Writes the embedding row of `token` (D floats).
  func embed(_ token: Int, into destination: UnsafeMutablePointer<Float>)
  /// y[N, D] = Layer_l(x[N, D]) for every row of the batch, reading and writing each sequence's
  /// cache of propagation `pass`.
  func layer(
    _ l: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: ForwardBatch,
    pass: Int,
    scratch: DecoderScratch)
  /// Most positions a sequence may reach (InternLM2's dynamic NTK rescaling beyond it is not
  /// implemented, so longer sequences are refused rather than computed differently).
  var maxPositions: Int { get }
  /// Which rotary tables a sequence whose largest position id + 1 is `span` uses (Phi-3's LongRoPE
  /// switches from short to long factors past its original context); prompts share a prefix only
  /// when they agree.
  func ropeVariant(forSpan span: Int) -> Int
  /// Bytes of weights a decode step reads: every layer's matrices and the LM head (one embedding
  /// row is negligible).
  var streamedBytesPerToken: Int { get }
  /// Matrix parameters each prompt token multiplies through per pass (the layers' base matrices).
  var matrixParametersPerToken: Int { get }
  /// Matrix parameters an image token multiplies through per pass on top of those (InternLM2's
  /// Partial LoRA adapters; 0 without them).
  var loraParametersPerImageToken: Int { get }
  /// logits[rows, V] = head(finalNorm(h[rows, D])).
  func logits(
    _ h: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>,
    scratch: DecoderScratch)
}

extension DecoderModel {
  package func embed(_ token: Int, into destination: UnsafeMutablePointer<Float>) {
    embeddings.copyRow(token, into: destination)
  }

  package func logits(
    _ h: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>,
    scratch: DecoderScratch
  ) {
    finalNorm.withUnsafeBufferPointer {
      rmsNorm(
        scratch.normed, h, weight: $0.baseAddress!, rows: rows, dim: shape.hidden,
        eps: eps)
    }
    head.multiply(
      scratch.normed, rows: rows, into: logits, accumulate: false, scratch: scratch.matmul)
  }
}

/// The rows of one forward call and the sequences they belong to.
///
/// Reused across calls (cleared with `removeAll`), so building a decode step allocates nothing in
/// steady state.
package final class ForwardBatch {
  /// One sequence's consecutive rows in the batch.
  struct Slice {
    /// First row of this sequence in the batch activations.
    var rowStart: Int
    /// Tokens of this sequence in this call.
    var rows: Int
    /// This sequence's cache for each propagation pass (index 0 = pass 1, the persistent one).
    var caches: [KVCache]
    /// "Largest position id + 1" of the forward call this sequence would see if run alone: Phi-3's
    /// LongRoPE chooses its short or long factors by it.
    var ropeSpan: Int
  }

  /// N: total rows.
  private(set) var rows = 0
  private(set) var slices: [Slice] = []
  /// Rows that are image tokens (PLoRA applies to them), ascending.
  private(set) var imageRows: [Int32] = []

  func removeAll() {
    rows = 0
    slices.removeAll(keepingCapacity: true)
    imageRows.removeAll(keepingCapacity: true)
  }

  /// Appends a sequence of `count` rows; `imageMask(i)` tells whether its row i is an image token.
  func append(
    rows count: Int, caches: [KVCache], ropeSpan: Int? = nil,
    imageMask: (Int) -> Bool = { _ in false }
  ) {
    let start = rows
    for i in 0..<count where imageMask(i) { imageRows.append(Int32(start + i)) }
    let span = ropeSpan ?? (caches[0].length + count)
    slices.append(Slice(rowStart: start, rows: count, caches: caches, ropeSpan: span))
    rows += count
  }

  /// Attention scratch for the largest slice: a row of keys per query row, or per head when a
  /// slice has fewer rows than heads (see `attentionScoresCount`).
  func maxScores(heads: Int) -> Int {
    slices.map { max($0.rows, heads) * ($0.caches.map(\.length).max()! + $0.rows) }.max() ?? 0
  }
}

/// Activation and scratch buffers for decoder forwards, sized for the largest batch seen and then
/// reused: forwards allocate nothing once the buffers have grown.
package final class DecoderScratch {
  let shape: DecoderShape
  let matmul = MatmulScratch()
  private(set) var capacityRows = 0
  private(set) var capacityImageRows = 0
  private(set) var capacityScores = 0

  /// Three residual-stream buffers [N, D] that `Traversal` rotates through.
  private(set) var streams: [UnsafeMutablePointer<Float>] = []
  /// [N, D] normalized input.
  private(set) var normed = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// [N, qkvWidth].
  private(set) var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// [N, H·Dh] queries (when a family needs them unpacked) and attention output.
  private(set) var queries = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var attention = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// [N, D] projection outputs and the post-attention residual.
  private(set) var projected = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var residual = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// [N, 2F] MLP inner activations and [N, F] their product.
  private(set) var inner = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var product = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// [N] gate values.
  private(set) var gates = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// PLoRA scratch: [Ni, max(qkvWidth, F, D)] and [Ni, R].
  private(set) var gathered = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var low = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// Attention scores [T, S] of one slice.
  private(set) var scores = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// cos/sin table [Dh].
  let ropeTable: UnsafeMutablePointer<Float>
  /// Key/value chunks of one slice's cache chain.
  let chunks: UnsafeMutablePointer<KeyValueChunk>
  static let chunkLimit = 8

  init(shape: DecoderShape) {
    self.shape = shape
    ropeTable = .allocate(capacity: shape.headDim)
    chunks = .allocate(capacity: DecoderScratch.chunkLimit)
  }

  deinit {
    for s in streams { s.deallocate() }
    for p in [
      normed, qkv, queries, attention, projected, residual, inner, product, gates, gathered, low,
      scores,
    ] {
      p.deallocate()
    }
    ropeTable.deallocate()
    chunks.deallocate()
  }

  /// Grows the buffers to hold `batch` (no-op when they are already large enough).
  func reserve(for batch: ForwardBatch) {
    let rows = batch.rows
    if rows > capacityRows {
      let n = max(rows, capacityRows * 2)
      let D = shape.hidden
      func grow(_ p: inout UnsafeMutablePointer<Float>, _ count: Int) {
        p.deallocate()
        p = .allocate(capacity: count)
      }
      for s in streams { s.deallocate() }
      streams = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n * D) }
      grow(&normed, n * D)
      grow(&qkv, n * shape.qkvWidth)
      grow(&queries, n * shape.heads * shape.headDim)
      grow(&attention, n * shape.heads * shape.headDim)
      grow(&projected, n * D)
      grow(&residual, n * D)
      grow(&inner, n * 2 * shape.intermediate)
      grow(&product, n * shape.intermediate)
      grow(&gates, n)
      capacityRows = n
    }
    let imageRows = batch.imageRows.count
    if imageRows > capacityImageRows {
      let n = max(imageRows, capacityImageRows * 2)
      gathered.deallocate()
      gathered = .allocate(capacity: n * max(shape.qkvWidth, shape.intermediate, shape.hidden))
      low.deallocate()
      low = .allocate(capacity: n * max(shape.loraRank, 1))
      capacityImageRows = n
    }
    let scoresNeeded = batch.maxScores(heads: shape.heads)
    if scoresNeeded > capacityScores {
      let n = max(scoresNeeded, capacityScores * 2)
      scores.deallocate()
      scores = .allocate(capacity: n)
      capacityScores = n
    }
  }
}
