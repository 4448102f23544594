public import Tensor

/// Reads a model's tensors by checkpoint key, checks their shapes, and builds them in the chosen
/// in-memory weight format.
///
/// The model files ask for every tensor through this type with its key and expected shape, so a
/// missing or mis-shaped tensor is reported by name instead of crashing later in a kernel.
public struct WeightLoader: Sendable {
  /// Looks a tensor up by its checkpoint key; throws `missingTensor` naming the key if absent.
  public typealias Lookup = @Sendable (String) throws -> RawTensorData
  /// Builds a matrix in the chosen format from the checkpoint's bytes.
  public typealias LinearFactory = @Sendable (RawTensorData) throws -> any LinearWeight

  private let lookup: Lookup
  private let makeLinear: LinearFactory

  /// - Parameters:
  ///   - lookup: the checkpoint's tensors by key.
  ///   - makeLinear: the weight format for matrices; the default widens to f32 (the exact reference).
  public init(lookup: @escaping Lookup, makeLinear: LinearFactory? = nil) {
    self.lookup = lookup
    self.makeLinear = makeLinear ?? { raw in
      let values = WeightLoader.widen(raw)
      return F32Weight(outFeatures: raw.shape[0], inFeatures: raw.count / raw.shape[0], values: values)
    }
  }

  /// Whether the checkpoint holds `key`.
  public func contains(_ key: String) -> Bool {
    (try? lookup(key)) != nil
  }

  /// The raw tensor `key`, checked against `shape`.
  ///
  /// - Throws: `TroLError.missingTensor` if absent, `invalidCheckpoint` if the shape differs.
  public func raw(_ key: String, shape: [Int]) throws -> RawTensorData {
    let raw = try lookup(key)
    guard raw.count == shape.reduce(1, *), raw.shape.reduce(1, *) == raw.count else {
      throw TroLError(
        .invalidCheckpoint,
        "tensor \(key) has shape \(raw.shape) but the config implies \(shape); the checkpoint and config.json disagree")
    }
    // Leading or trailing 1s (e.g. [1, 1, C] class embeddings) are accepted; anything else must match.
    if raw.shape.filter({ $0 != 1 }) != shape.filter({ $0 != 1 }) {
      throw TroLError(
        .invalidCheckpoint,
        "tensor \(key) has shape \(raw.shape) but the config implies \(shape); the checkpoint and config.json disagree")
    }
    return raw
  }

  /// A matrix [out, in] (PyTorch Linear layout) in the chosen format.
  public func linear(_ key: String, out: Int, in inFeatures: Int) throws -> any LinearWeight {
    let raw = try raw(key, shape: [out, inFeatures])
    let reshaped = RawTensorData(dtype: raw.dtype, shape: [out, inFeatures], bytes: raw.bytes, owner: raw.owner)
    return try makeLinear(reshaped)
  }

  /// A matrix [out, in] always held as f32 (small matrices where precision or speed of the f32 path
  /// matters more than memory: patch embeddings, gates).
  public func f32Linear(_ key: String, out: Int, in inFeatures: Int) throws -> F32Weight {
    let raw = try raw(key, shape: [out, inFeatures])
    return F32Weight(outFeatures: out, inFeatures: inFeatures, values: WeightLoader.widen(raw))
  }

  /// A tensor of any shape widened to f32 (norm gains, biases, embeddings tables of vision towers).
  public func floats(_ key: String, shape: [Int]) throws -> [Float] {
    WeightLoader.widen(try raw(key, shape: shape))
  }

  /// Widens F32, F16 or BF16 bytes to f32 (exact for every 16-bit value).
  public static func widen(_ raw: RawTensorData) -> [Float] {
    let n = raw.count
    switch raw.dtype {
    case .f32:
      return [Float](unsafeUninitializedCapacity: n) { buffer, count in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.bytes[0..<(4 * n)]))
        count = n
      }
    case .f16:
      return [Float](unsafeUninitializedCapacity: n) { buffer, count in
        for i in 0..<n { buffer[i] = Float(Float16(bitPattern: raw.bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        count = n
      }
    case .bf16:
      return [Float](unsafeUninitializedCapacity: n) { buffer, count in
        for i in 0..<n {
          let bits = UInt32(raw.bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16
          buffer[i] = Float(bitPattern: bits)
        }
        count = n
      }
    }
  }
}
