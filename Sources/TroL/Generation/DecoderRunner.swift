internal import Tensor
import TrolleyBasics

/// One sequence's part of a forward call: its new tokens, the image features for the image tokens
/// among them, and its caches (one per propagation pass).
struct SequenceInput {
  /// Token ids of this call's rows.
  var tokens: ArraySlice<Int>
  /// Features [k, D] for the k image-placeholder tokens among `tokens`, in order; nil when none.
  var imageFeatures: UnsafeBufferPointer<Float>?
  /// This sequence's cache for each propagation pass; index 0 is the persistent KV cache.
  var caches: [KVCache]
  /// The full prompt length when this call is part of a longer prompt (shared prefix, chunk), for
  /// Phi-3's LongRoPE factor choice; nil means "these rows end the sequence".
  var ropeSpan: Int?
}

/// Runs forwards of a decoder over batches of sequences: embedding lookup with image features
/// merged in, the traversed (or plain) layer stack, then logits of each sequence's last row.
///
/// One runner per worker thread: it owns the scratch buffers, which grow to the largest batch seen
/// and are reused.
final class DecoderRunner {
  let decoder: any DecoderModel
  let imageTokenID: Int
  let scratch: DecoderScratch
  let batch = ForwardBatch()
  /// [sequences, D] last rows and [sequences, V] their logits.
  private var lastRows: UnsafeMutableBufferPointer<Float> = .allocate(capacity: 0)
  private(set) var logits: UnsafeMutableBufferPointer<Float> = .allocate(capacity: 0)
  var tracer: Tracer?

  init(decoder: any DecoderModel, imageTokenID: Int) {
    self.decoder = decoder
    self.imageTokenID = imageTokenID
    scratch = DecoderScratch(shape: decoder.shape)
  }

  deinit {
    lastRows.deallocate()
    logits.deallocate()
  }

  var shape: DecoderShape { decoder.shape }

  /// Runs one forward over `inputs` with `passes` propagations per layer and returns the logits of
  /// each sequence's last row ([inputs.count, V], valid until the next call).
  ///
  /// `shouldStop` is asked before each layer (prefill forwards are long: a cancelled batch should
  /// not run to their end).
  ///
  /// - Throws: `invalidRequest` if a token id is out of range or the image features do not match
  ///   the image tokens; `cancelled` when `shouldStop` said so (the caches are left as they were).
  func forward(
    _ inputs: [SequenceInput], passes: Int, shouldStop: (() -> Bool)? = nil
  ) throws -> UnsafeBufferPointer<Float> {
    let D = shape.hidden
    batch.removeAll()
    for input in inputs {
      precondition(
        input.caches.count >= passes,
        "DecoderRunner: \(input.caches.count) caches for \(passes) passes")
      let tokens = input.tokens
      let start = tokens.startIndex
      batch.append(
        rows: tokens.count, caches: input.caches, ropeSpan: input.ropeSpan,
        imageMask: { tokens[start + $0] == self.imageTokenID })
    }
    scratch.reserve(for: batch)
    // Embeddings, with image-token rows overwritten by the projected features in order.
    var row = 0
    for input in inputs {
      var featureRow = 0
      let featureRows = (input.imageFeatures?.count ?? 0) / D
      for token in input.tokens {
        let destination = scratch.streams[0] + row * D
        if token == imageTokenID {
          guard let features = input.imageFeatures, featureRow < featureRows else {
            throw TroLError(
              .invalidRequest,
              "the prompt has more image tokens than the image has features (\(featureRows)); the prompt and image do not match"
            )
          }
          destination.update(from: features.baseAddress! + featureRow * D, count: D)
          featureRow += 1
        } else {
          guard token >= 0, token < shape.embeddingRows else {
            throw TroLError(
              .invalidRequest,
              "token id \(token) is outside the vocabulary of \(shape.embeddingRows)")
          }
          decoder.embed(token, into: destination)
        }
        row += 1
      }
      guard featureRow == featureRows else {
        throw TroLError(
          .invalidRequest,
          "the image has \(featureRows) feature rows but the prompt has \(featureRow) image tokens")
      }
    }
    tracer?(
      "embeddings", nil, UnsafeBufferPointer(start: scratch.streams[0], count: batch.rows * D))
    guard
      let output = Traversal.forward(
        decoder, batch: batch, passes: passes, scratch: scratch, tracer: tracer,
        shouldStop: shouldStop)
    else {
      throw TroLError(.cancelled, "the forward was stopped: every sequence in it was cancelled")
    }
    // Final norm and head on each sequence's last row only.
    let count = inputs.count
    if lastRows.count < count * D {
      lastRows.deallocate()
      lastRows = .allocate(capacity: count * D)
      logits.deallocate()
      logits = .allocate(capacity: count * shape.vocabulary)
    }
    for (i, slice) in batch.slices.enumerated() {
      (lastRows.baseAddress! + i * D).update(
        from: output + (slice.rowStart + slice.rows - 1) * D, count: D)
    }
    decoder.logits(lastRows.baseAddress!, rows: count, into: logits.baseAddress!, scratch: scratch)
    let result = UnsafeBufferPointer(start: logits.baseAddress!, count: count * shape.vocabulary)
    tracer?("logits", nil, result)
    return result
  }

  /// A fresh cache for this decoder.
  func makeCache(capacity: Int, parent: KVCache? = nil) -> KVCache {
    KVCache(
      layers: shape.layers, keyValueHeads: shape.keyValueHeads, headDim: shape.headDim,
      capacity: capacity,
      parent: parent)
  }
}
