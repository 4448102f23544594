/// One tensor of a family's model.safetensors: what the loader asks for, what `model inspect`
/// checks, and what `model synth` writes.
public struct CheckpointTensor: Sendable, Hashable {
  /// How `model synth` fills the tensor (random weights with plausible scales).
  public enum Initialization: Sendable, Hashable {
    /// Uniform with this standard deviation.
    case random(std: Float)
    /// Every value the same (norm gains 1, biases 0, layer scales).
    case constant(Float)

    /// A Linear weight [out, in]: uniform with std 1/√in, so activations keep their scale.
    public static func fanIn(_ inFeatures: Int) -> Initialization {
      .random(std: 1 / Float(inFeatures).squareRoot())
    }
  }

  /// The checkpoint key.
  public var name: String
  /// The shape as stored (PyTorch layout: Linear weights [out, in], Conv2d [C, 3, P, P]).
  public var shape: [Int]
  /// The dtype the released checkpoints store it in.
  public var dtype: SafeTensorsDType
  /// What `model synth` writes.
  public var initialization: Initialization
  /// The part `model inspect` counts it in.
  public var part: ModelInspection.PartKind
  /// False for tensors the checkpoint holds but the model never reads (CLIP's `post_layernorm`:
  /// TroL takes the last layer's output before it).
  public var loaded: Bool

  public init(
    _ name: String, _ shape: [Int], _ dtype: SafeTensorsDType, _ initialization: Initialization,
    part: ModelInspection.PartKind, loaded: Bool = true
  ) {
    self.name = name
    self.shape = shape
    self.dtype = dtype
    self.initialization = initialization
    self.part = part
    self.loaded = loaded
  }

  /// Values in the tensor.
  public var count: Int { shape.reduce(1, *) }
}

/// Shorthands the family files use to list their tensors.
struct TensorList {
  let dtype: SafeTensorsDType
  let part: ModelInspection.PartKind
  var tensors: [CheckpointTensor] = []

  init(dtype: SafeTensorsDType, part: ModelInspection.PartKind) {
    self.dtype = dtype
    self.part = part
  }

  /// A Linear weight [out, in].
  mutating func linear(
    _ name: String, _ out: Int, _ inFeatures: Int, part: ModelInspection.PartKind? = nil
  ) {
    add(name, [out, inFeatures], .fanIn(inFeatures), part: part)
  }

  /// A Linear layer: weight [out, in] and bias [out] (zeros).
  mutating func linearWithBias(_ prefix: String, _ out: Int, _ inFeatures: Int) {
    linear(prefix + ".weight", out, inFeatures)
    zeros(prefix + ".bias", out)
  }

  /// A norm gain of ones.
  mutating func ones(_ name: String, _ n: Int, loaded: Bool = true) {
    add(name, [n], .constant(1), loaded: loaded)
  }

  /// A bias of zeros.
  mutating func zeros(_ name: String, _ n: Int, loaded: Bool = true) {
    add(name, [n], .constant(0), loaded: loaded)
  }

  /// A LayerNorm: weight (ones) and bias (zeros).
  mutating func layerNorm(_ prefix: String, _ n: Int, loaded: Bool = true) {
    ones(prefix + ".weight", n, loaded: loaded)
    zeros(prefix + ".bias", n, loaded: loaded)
  }

  mutating func add(
    _ name: String, _ shape: [Int], _ initialization: CheckpointTensor.Initialization,
    part: ModelInspection.PartKind? = nil, loaded: Bool = true
  ) {
    tensors.append(
      CheckpointTensor(name, shape, dtype, initialization, part: part ?? self.part, loaded: loaded))
  }
}
