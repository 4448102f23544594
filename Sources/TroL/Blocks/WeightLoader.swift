internal import Foundation
internal import Synchronization
public import Tensor
import TrolleyBasics

/// Reads a model's tensors by checkpoint key, checks their shapes, and builds them in the chosen
/// in-memory weight format.
///
/// The model files ask for every tensor through this type with its key and expected shape, so a
/// missing or mis-shaped tensor is reported by name instead of crashing later in a kernel.
public struct WeightLoader: Sendable {
  /// Looks a tensor up by its checkpoint key; throws `missingTensor` naming the key if absent.
  public typealias Lookup = @Sendable (String) throws -> RawTensorData

  private let lookup: Lookup
  /// The in-memory format of large matrices.
  public let format: WeightFormat
  /// How their prefill products multiply (`--compute`).
  public let compute: ComputeMode
  /// Where 16-bit weights' packed panels are cached between loads, if anywhere.
  let packedWeights: PackedWeightCache?
  /// The family's tensor list by name, when set (`checking`): every request must be in it.
  private let expected: [String: CheckpointTensor]?
  /// The keys requested so far (for the test that the model reads exactly its tensor list).
  let requests = RequestLog()

  /// Keys a loader was asked for.
  final class RequestLog: Sendable {
    private let keys = Mutex<Set<String>>([])
    func insert(_ key: String) { keys.withLock { _ = $0.insert(key) } }
    var all: Set<String> { keys.withLock { $0 } }
  }

  /// - Parameters:
  ///   - lookup: the checkpoint's tensors by key.
  ///   - format: the format for decoder matrices, embeddings and the LM head; `.f32` is the exact
  ///     reference, `.f16` keeps the checkpoint's 16-bit bytes.
  ///   - compute: how those matrices' prefill products multiply (`ComputeMode`).
  ///   - packedWeights: with `.f16`, 16-bit matrices come from this cache when it is valid, and
  ///     are recorded in it when they are repacked.
  public init(
    lookup: @escaping Lookup, format: WeightFormat = .f32, compute: ComputeMode = .f32,
    packedWeights: PackedWeightCache? = nil
  ) {
    self.init(
      lookup: lookup, format: format, compute: compute, packedWeights: packedWeights,
      expected: nil)
  }

  private init(
    lookup: @escaping Lookup, format: WeightFormat, compute: ComputeMode,
    packedWeights: PackedWeightCache?, expected: [String: CheckpointTensor]?
  ) {
    self.lookup = lookup
    self.format = format
    self.compute = compute
    self.packedWeights = packedWeights
    self.expected = expected
  }

  /// This loader, refusing any request that `tensors` (a family's list) does not describe with
  /// the same name and shape: the layer code and the tensor list cannot drift apart.
  func checking(_ tensors: [CheckpointTensor]) -> WeightLoader {
    WeightLoader(
      lookup: lookup, format: format, compute: compute, packedWeights: packedWeights,
      expected: Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
  }

  /// Whether the checkpoint holds `key`.
  public func contains(_ key: String) -> Bool {
    (try? lookup(key)) != nil
  }

  /// The raw tensor `key`, checked against `shape`.
  ///
  /// - Throws: `TroLError.missingTensor` if absent, `invalidCheckpoint` if the shape differs.
  public func raw(_ key: String, shape: [Int]) throws -> RawTensorData {
    if let expected {
      guard let listed = expected[key],
        listed.shape.filter({ $0 != 1 }) == shape.filter({ $0 != 1 })
      else {
        throw TroLError(
          .invalidCheckpoint,
          "the model asked for \(key) \(shape), which its family's tensor list does not describe (\(expected[key].map { "\($0.shape)" } ?? "absent")): a bug in the family file"
        )
      }
    }
    requests.insert(key)
    let raw = try lookup(key)
    guard raw.count == shape.reduce(1, *), raw.shape.reduce(1, *) == raw.count else {
      throw TroLError(
        .invalidCheckpoint,
        "tensor \(key) has shape \(raw.shape) but the config implies \(shape); the checkpoint and config.json disagree"
      )
    }
    // Leading or trailing 1s (e.g. [1, 1, C] class embeddings) are accepted; anything else must match.
    if raw.shape.filter({ $0 != 1 }) != shape.filter({ $0 != 1 }) {
      throw TroLError(
        .invalidCheckpoint,
        "tensor \(key) has shape \(raw.shape) but the config implies \(shape); the checkpoint and config.json disagree"
      )
    }
    return raw
  }

  /// A matrix [out, in] (PyTorch Linear layout) in the chosen format.
  public func linear(_ key: String, out: Int, in inFeatures: Int) throws -> any LinearWeight {
    let raw = try raw(key, shape: [out, inFeatures])
    let reshaped = RawTensorData(
      dtype: raw.dtype, shape: [out, inFeatures], bytes: raw.bytes, owner: raw.owner)
    let weight: any LinearWeight
    do {
      if format == .f16, let cache = packedWeights, raw.dtype == .f16 || raw.dtype == .bf16 {
        if let cached = cache.weight(
          key, raw: reshaped, out: out, in: inFeatures, compute: compute)
        {
          weight = cached
        } else {
          let packed = try HalfWeight(reshaped, compute: compute)
          cache.record(key, packed)
          weight = packed
        }
      } else {
        weight = try makeLinearWeight(reshaped, format: format, compute: compute)
      }
    } catch let error as TensorError where error.code == .unsupportedFormat {
      throw TroLError(.invalidRequest, "\(key): \(error.message)")
    }
    Self.releasePages(raw.bytes)
    return weight
  }

  /// Tells the kernel a mapped tensor's pages are no longer needed once a format copied them (every
  /// format copies: 16-bit weights are repacked into panels), so the checkpoint and the weights are
  /// not both resident: for TroL-7B that is the difference between ~9 GB and ~26 GB of peak RSS
  /// with q8.
  static func releasePages(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress else { return }
    let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
    let start = (UInt(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (UInt(bitPattern: base) + UInt(bytes.count)) & ~(page - 1)
    guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(pointer, Int(end - start), Int32(MADV_DONTNEED))
  }

  /// A matrix [out, in] always held as f32 (small matrices where precision or speed of the f32 path
  /// matters more than memory: patch embeddings, gates).
  ///
  /// - Parameter storedShape: the shape in the checkpoint when it is not [out, in] (a Conv2d
  ///   weight [C, 3, P, P] used as a matrix over unfolded patches).
  public func f32Linear(_ key: String, out: Int, in inFeatures: Int, storedShape: [Int]? = nil)
    throws -> F32Weight
  {
    let raw = try raw(key, shape: storedShape ?? [out, inFeatures])
    return F32Weight(outFeatures: out, inFeatures: inFeatures, values: WeightLoader.widen(raw))
  }

  /// A tensor of any shape widened to f32 (norm gains, biases, embeddings tables of vision towers).
  public func floats(_ key: String, shape: [Int]) throws -> [Float] {
    WeightLoader.widen(try raw(key, shape: shape))
  }

  /// Widens F32, F16 or BF16 bytes to f32 (exact for every 16-bit value).
  public static func widen(_ raw: RawTensorData) -> [Float] {
    HalfConversion.floats(raw)
  }
}
