import TrolleyBasics

/// The TroL-Mixer gate read from `trol_gating.pt`: w = 0.5·tanh(g·a + c) + 0.5.
///
/// The released file is the state dict of `nn.ModuleList([Linear(D, 1)] * N)`, i.e. N pairs of
/// keys (`i.weight` [1, D], `i.bias` [1]) that normally all refer to one shared tensor. If the
/// entries differ, the released loader ends up using the last pair for every layer (each
/// `load_state_dict` copy overwrites the same module), so this does too and says so through
/// `entriesIdentical`.
public struct TroLGate: Sendable, Hashable {
  /// g, the gate weight (D values).
  public let weight: [Float]
  /// c, the gate bias.
  public let bias: Float
  /// N, the number of `i.weight`/`i.bias` pairs (the decoder's layer count).
  public let layerEntries: Int
  /// Whether every pair holds the same values (true in the released checkpoints).
  public let entriesIdentical: Bool
  /// The storage class of the weight (BFloat16 in the released files).
  public let storageType: TorchStorageType

  /// D.
  public var hiddenSize: Int { weight.count }

  /// Creates a gate from its values (for tests and for `trolley model synth`).
  public init(
    weight: [Float], bias: Float, layerEntries: Int, entriesIdentical: Bool = true,
    storageType: TorchStorageType = .bfloat16
  ) {
    self.weight = weight
    self.bias = bias
    self.layerEntries = layerEntries
    self.entriesIdentical = entriesIdentical
    self.storageType = storageType
  }

  /// Reads `trol_gating.pt`.
  ///
  /// - Parameters:
  ///   - path: the file.
  ///   - hiddenSize: when given, the D the decoder expects.
  ///   - layers: when given, the N the decoder expects.
  /// - Throws: `TroLError.invalidCheckpoint` for a malformed file, missing or extra keys, wrong
  ///   shapes, or a D / N different from the expected one (plus the errors of
  ///   `TorchStateDictFile`).
  public static func load(path: String, hiddenSize: Int? = nil, layers: Int? = nil) throws
    -> TroLGate
  {
    let file = try TorchStateDictFile(path: path)
    func fail(_ what: String) -> TroLError { TroLError(.invalidCheckpoint, "\(path): \(what)") }

    var weights: [Int: TorchStateDictFile.Tensor] = [:]
    var biases: [Int: TorchStateDictFile.Tensor] = [:]
    for tensor in file.tensors {
      let parts = tensor.name.split(separator: ".", omittingEmptySubsequences: false)
      guard parts.count == 2, let layer = Int(parts[0]), layer >= 0, String(layer) == parts[0]
      else {
        throw fail(
          "unexpected key '\(tensor.name)' (a TroL gate has keys '<layer>.weight' and '<layer>.bias')"
        )
      }
      switch parts[1] {
      case "weight":
        guard tensor.shape.count == 2, tensor.shape[0] == 1 else {
          throw fail("'\(tensor.name)' has shape \(tensor.shape), expected [1, D]")
        }
        weights[layer] = tensor
      case "bias":
        guard tensor.shape == [1] else {
          throw fail("'\(tensor.name)' has shape \(tensor.shape), expected [1]")
        }
        biases[layer] = tensor
      default:
        throw fail(
          "unexpected key '\(tensor.name)' (a TroL gate has keys '<layer>.weight' and '<layer>.bias')"
        )
      }
    }
    let count = weights.count
    guard count > 0 else { throw fail("no gate entries ('0.weight', '0.bias', ...)") }
    for layer in 0..<count where weights[layer] == nil || biases[layer] == nil {
      throw fail(
        "gate entries are not 0..<\(count) pairs: '\(layer).weight' or '\(layer).bias' is missing")
    }
    guard biases.count == count else { throw fail("\(biases.count) biases for \(count) weights") }
    let last = weights[count - 1]!
    let lastBias = biases[count - 1]!
    for layer in 0..<count where weights[layer]!.shape != last.shape {
      throw fail(
        "'\(layer).weight' has shape \(weights[layer]!.shape), '\(count - 1).weight' has \(last.shape)"
      )
    }
    if let hiddenSize, last.shape[1] != hiddenSize {
      throw fail(
        "gate width \(last.shape[1]) does not match hidden_size \(hiddenSize) in config.json")
    }
    if let layers, count != layers {
      throw fail("\(count) gate entries for \(layers) decoder layers in config.json")
    }
    let identical = (0..<count).allSatisfy {
      weights[$0]!.values == last.values && biases[$0]!.values == lastBias.values
    }
    return TroLGate(
      weight: last.values, bias: lastBias.values[0], layerEntries: count,
      entriesIdentical: identical,
      storageType: last.storageType)
  }
}

extension TroLGate {
  /// Writes this gate as `trol_gating.pt` in the released layout: `layerEntries` pairs of keys
  /// sharing one weight storage and one bias storage (`storageType`, BFloat16 as released).
  ///
  /// - Throws: `TroLError.io` if the file cannot be written.
  public func write(to path: String) throws {
    var tensors: [TorchStateDictWriter.Tensor] = []
    for layer in 0..<layerEntries {
      tensors.append(
        .init(
          name: "\(layer).weight", storageKey: "0", storageType: storageType,
          shape: [1, weight.count], values: weight))
      tensors.append(
        .init(
          name: "\(layer).bias", storageKey: "1", storageType: storageType, shape: [1],
          values: [bias]))
    }
    try TorchStateDictWriter.write(tensors, to: path)
  }
}
