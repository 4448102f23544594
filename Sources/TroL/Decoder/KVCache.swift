internal import Tensor

/// Keys and values of one sequence for every layer, for one propagation pass, stored per layer as
/// [Hkv, capacity, Dh] (post-RoPE keys, values as projected; GQA heads are not repeated).
///
/// A cache may extend a frozen `parent` (a shared prefix: the system prompt and image for several
/// questions, or the prompt for the beams of a beam search). Attention then reads the parent chain
/// and this cache's own positions as consecutive chunks; nothing is copied. A parent must not grow
/// once its children hold positions (they would then sit at the wrong positions).
public final class KVCache {
  /// Layers L.
  public let layers: Int
  /// Hkv.
  public let keyValueHeads: Int
  /// Dh.
  public let headDim: Int
  /// Positions this cache can hold itself (beyond its parent chain).
  public let capacity: Int
  /// The shared prefix this cache extends, or nil.
  public let parent: KVCache?
  /// Positions in the parent chain.
  public var prefixLength: Int { parent?.length ?? 0 }
  /// Positions committed in this cache itself.
  public private(set) var ownLength = 0

  /// [L][Hkv, capacity, Dh] keys, then the same for values, in one allocation.
  private let storage: UnsafeMutableBufferPointer<Float>

  /// - Parameters:
  ///   - capacity: positions this cache holds itself; generation reserves the prompt plus the
  ///     maximum number of new tokens, so storage never moves during a run.
  ///   - parent: a frozen prefix to extend, or nil.
  public init(layers: Int, keyValueHeads: Int, headDim: Int, capacity: Int, parent: KVCache? = nil)
  {
    self.layers = layers
    self.keyValueHeads = keyValueHeads
    self.headDim = headDim
    self.capacity = capacity
    self.parent = parent
    if let parent {
      precondition(
        parent.keyValueHeads == keyValueHeads && parent.headDim == headDim
          && parent.layers == layers,
        "KVCache: parent shape differs")
    }
    storage = .allocate(capacity: 2 * layers * keyValueHeads * capacity * headDim)
  }

  deinit { storage.deallocate() }

  /// Positions visible to the next token: the parent chain plus this cache's own.
  public var length: Int { prefixLength + ownLength }

  /// Bytes this cache holds itself (not counting its parent).
  public var byteCount: Int { storage.count * 4 }

  private var layerStride: Int { keyValueHeads * capacity * headDim }

  /// Keys of layer l: [Hkv, capacity, Dh].
  public func keys(layer l: Int) -> UnsafeMutablePointer<Float> {
    storage.baseAddress! + l * layerStride
  }

  /// Values of layer l: [Hkv, capacity, Dh].
  public func values(layer l: Int) -> UnsafeMutablePointer<Float> {
    storage.baseAddress! + (layers + l) * layerStride
  }

  /// The key (or value) slot of own position `i` in head `h` of layer `l`.
  @inline(__always)
  func keySlot(layer l: Int, head h: Int, position i: Int) -> UnsafeMutablePointer<Float> {
    keys(layer: l) + (h * capacity + i) * headDim
  }

  @inline(__always)
  func valueSlot(layer l: Int, head h: Int, position i: Int) -> UnsafeMutablePointer<Float> {
    values(layer: l) + (h * capacity + i) * headDim
  }

  /// Makes `count` newly written own positions visible (called once per forward, after all layers).
  public func commit(_ count: Int) {
    precondition(
      ownLength + count <= capacity,
      "KVCache: \(ownLength) + \(count) positions exceed capacity \(capacity)")
    ownLength += count
  }

  /// Drops own positions beyond `count` (beam search reorders and rewrites them).
  public func truncate(to count: Int) {
    precondition(count <= ownLength, "KVCache: truncate to \(count) of \(ownLength)")
    ownLength = count
  }

  /// Copies the own positions of `other` (same parent, same shape) over this cache's.
  public func copyOwn(from other: KVCache) {
    precondition(
      other.ownLength <= capacity, "KVCache: \(other.ownLength) positions do not fit in \(capacity)"
    )
    for l in 0..<(2 * layers) {
      for h in 0..<keyValueHeads {
        let source = other.storage.baseAddress! + (l * keyValueHeads + h) * other.capacity * headDim
        let destination = storage.baseAddress! + (l * keyValueHeads + h) * capacity * headDim
        destination.update(from: source, count: other.ownLength * headDim)
      }
    }
    ownLength = other.ownLength
  }

  /// Writes layer l's chunks (parent chain first, then own positions up to `ownLength + pending`)
  /// into `chunks`; returns how many were written.
  func chunks(
    layer l: Int, pending: Int, into chunks: UnsafeMutablePointer<KeyValueChunk>, limit: Int
  ) -> Int {
    var n = 0
    if let parent {
      n = parent.chunks(layer: l, pending: 0, into: chunks, limit: limit)
    }
    precondition(n < limit, "KVCache: prefix chain deeper than \(limit)")
    chunks[n] = KeyValueChunk(
      key: AttentionOperand(
        base: keys(layer: l), rowStride: headDim, headStride: capacity * headDim),
      value: AttentionOperand(
        base: values(layer: l), rowStride: headDim, headStride: capacity * headDim),
      count: ownLength + pending)
    return n + 1
  }
}
