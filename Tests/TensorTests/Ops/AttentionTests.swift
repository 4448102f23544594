import Tensor
import Testing

@Suite struct AttentionTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var queries: Int, keys: Int, heads: Int, kvHeads: Int, headDim: Int, causal: Bool
    var testDescription: String {
      "T\(queries) S\(keys) H\(heads)/\(kvHeads) Dh\(headDim) causal \(causal)"
    }
  }

  @Test(arguments: [
    Case(queries: 1, keys: 9, heads: 4, kvHeads: 2, headDim: 16, causal: true),
    Case(queries: 7, keys: 7, heads: 4, kvHeads: 2, headDim: 16, causal: true),
    Case(queries: 5, keys: 12, heads: 2, kvHeads: 2, headDim: 24, causal: true),
    Case(queries: 17, keys: 17, heads: 2, kvHeads: 2, headDim: 16, causal: false),
    // One query over keys that are not a multiple of 4, with a head width not a multiple of 8.
    Case(queries: 1, keys: 23, heads: 6, kvHeads: 3, headDim: 12, causal: true),
    // Causal prompts longer than one query block, with and without earlier keys.
    Case(queries: 300, keys: 300, heads: 2, kvHeads: 1, headDim: 8, causal: true),
    Case(queries: 270, keys: 290, heads: 2, kvHeads: 2, headDim: 8, causal: true),
    Case(queries: 290, keys: 290, heads: 2, kvHeads: 2, headDim: 8, causal: false),
  ])
  func blasMatchesNaive(_ c: Case) {
    var values = TestValues(seed: UInt64(c.queries * 31 + c.keys))
    let capacity = c.keys + 3
    // Queries packed [T, H·Dh]; keys/values in a cache layout [Hkv, capacity, Dh].
    var q = values.floats(c.queries * c.heads * c.headDim, scale: 2)
    var k = values.floats(c.kvHeads * capacity * c.headDim, scale: 2)
    var v = values.floats(c.kvHeads * capacity * c.headDim, scale: 2)
    var fast = [Float](repeating: 0, count: c.queries * c.heads * c.headDim)
    var slow = fast
    let shape = AttentionShape(
      queries: c.queries, keys: c.keys, heads: c.heads, keyValueHeads: c.kvHeads,
      headDim: c.headDim,
      causal: c.causal, scale: 1 / Float(c.headDim).squareRoot())
    var scores = [Float](repeating: .nan, count: attentionScoresCount(shape))
    let width = c.heads * c.headDim
    q.withUnsafeMutableBufferPointer { qp in
      k.withUnsafeMutableBufferPointer { kp in
        v.withUnsafeMutableBufferPointer { vp in
          let query = AttentionOperand(
            base: qp.baseAddress!, rowStride: width, headStride: c.headDim)
          let key = AttentionOperand(
            base: kp.baseAddress!, rowStride: c.headDim, headStride: capacity * c.headDim)
          let value = AttentionOperand(
            base: vp.baseAddress!, rowStride: c.headDim, headStride: capacity * c.headDim)
          fast.withUnsafeMutableBufferPointer { fp in
            attention(
              query: query, key: key, value: value,
              output: AttentionOperand(
                base: fp.baseAddress!, rowStride: width, headStride: c.headDim),
              shape: shape, scores: &scores)
          }
          slow.withUnsafeMutableBufferPointer { sp in
            attentionNaive(
              query: query, key: key, value: value,
              output: AttentionOperand(
                base: sp.baseAddress!, rowStride: width, headStride: c.headDim),
              shape: shape)
          }
        }
      }
    }
    #expect(maxAbsDifference(fast, slow) < 1e-5)
  }
}

@Suite struct ChunkedAttentionTests {
  /// Splitting the keys into a prefix chunk and an own chunk must give the same result as one chunk.
  /// (queries, prefix keys, own keys): decode steps, short prompts, and prompts spanning several
  /// query blocks whose visible keys end inside the own chunk.
  @Test(arguments: [(1, 6, 5), (4, 6, 5), (300, 40, 290)])
  func chunksEqualOneBlock(queries: Int, prefix: Int, own: Int) {
    let heads = 4
    let kvHeads = 2
    let Dh = 8
    let S = prefix + own
    var values = TestValues(seed: UInt64(queries))
    var q = values.floats(queries * heads * Dh)
    var k = values.floats(kvHeads * S * Dh)
    var v = values.floats(kvHeads * S * Dh)
    // The same keys split in two caches, each [Hkv, n, Dh].
    var k1 = [Float]()
    var v1 = [Float]()
    var k2 = [Float]()
    var v2 = [Float]()
    for h in 0..<kvHeads {
      k1 += k[(h * S * Dh)..<(h * S * Dh + prefix * Dh)]
      v1 += v[(h * S * Dh)..<(h * S * Dh + prefix * Dh)]
      k2 += k[(h * S * Dh + prefix * Dh)..<((h + 1) * S * Dh)]
      v2 += v[(h * S * Dh + prefix * Dh)..<((h + 1) * S * Dh)]
    }
    let shape = AttentionShape(
      queries: queries, keys: S, heads: heads, keyValueHeads: kvHeads, headDim: Dh, causal: true,
      scale: 0.3)
    var whole = [Float](repeating: 0, count: queries * heads * Dh)
    var split = whole
    var scores = [Float](repeating: 0, count: attentionScoresCount(shape))
    func operand(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> AttentionOperand {
      AttentionOperand(base: p, rowStride: Dh, headStride: n * Dh)
    }
    q.withUnsafeMutableBufferPointer { qp in
      let query = AttentionOperand(base: qp.baseAddress!, rowStride: heads * Dh, headStride: Dh)
      whole.withUnsafeMutableBufferPointer { wp in
        k.withUnsafeMutableBufferPointer { kp in
          v.withUnsafeMutableBufferPointer { vp in
            attention(
              query: query, key: operand(kp.baseAddress!, S), value: operand(vp.baseAddress!, S),
              output: AttentionOperand(
                base: wp.baseAddress!, rowStride: heads * Dh, headStride: Dh),
              shape: shape, scores: &scores)
          }
        }
      }
      split.withUnsafeMutableBufferPointer { sp in
        k1.withUnsafeMutableBufferPointer { k1p in
          v1.withUnsafeMutableBufferPointer { v1p in
            k2.withUnsafeMutableBufferPointer { k2p in
              v2.withUnsafeMutableBufferPointer { v2p in
                let chunks = [
                  KeyValueChunk(
                    key: operand(k1p.baseAddress!, prefix),
                    value: operand(v1p.baseAddress!, prefix), count: prefix),
                  KeyValueChunk(
                    key: operand(k2p.baseAddress!, own), value: operand(v2p.baseAddress!, own),
                    count: own),
                ]
                chunks.withUnsafeBufferPointer { cp in
                  attention(
                    query: query, chunks: cp,
                    output: AttentionOperand(
                      base: sp.baseAddress!, rowStride: heads * Dh, headStride: Dh),
                    shape: shape, scores: &scores)
                }
              }
            }
          }
        }
      }
    }
    #expect(maxAbsDifference(whole, split) < 1e-6)
  }
}
