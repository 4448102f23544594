internal import Foundation

extension ModelInspection {
  /// Disagreements between config.json and the safetensors header, found without loading the
  /// weights: layer counts, then every tensor of the family's list (presence and shape), then
  /// dtypes.
  ///
  /// Empty for a consistent checkpoint. The model loader would stop at the first of these; the
  /// inspection lists them all, a mismatch repeated in every layer once.
  static func findings(_ model: ModelDirectory) -> [String] {
    let weights = model.weights
    let stored = Set(weights.names)
    var findings: [String] = []

    // Layer counts per layer stack (`model.layers.`, `...encoder.layers.`).
    var expectedLayers: [String: (what: String, indices: Set<Int>)] = [:]
    for tensor in model.config.tensors {
      guard let (prefix, index) = Self.layerIndex(tensor.name) else { continue }
      let what = tensor.part == .visionTower ? "vision" : "decoder"
      expectedLayers[prefix, default: (what, [])].indices.insert(index)
    }
    var foundLayers: [String: Int] = [:]
    for (prefix, group) in expectedLayers.sorted(by: { $0.key < $1.key }) {
      let found = Set(
        stored.compactMap { name in
          Self.layerIndex(name).flatMap { $0.prefix == prefix ? $0.index : nil }
        })
      foundLayers[prefix] = found.count
      if found.count != group.indices.count {
        findings.append(
          "\(found.count) \(group.what) layers under \(prefix)*, config.json says \(group.indices.count)"
        )
      }
    }

    // Every listed tensor: present, with the shape config.json implies. A mismatch that repeats
    // in every layer is reported once, with the count of layers it repeats in.
    var tensorFindings: [(key: String, text: String, repeats: Int)] = []
    for tensor in model.config.tensors {
      let layer = Self.layerIndex(tensor.name)
      let text: String
      if let info = try? weights.info(tensor.name) {
        guard info.shape != tensor.shape else { continue }
        text = "\(tensor.name) has shape \(info.shape), config.json implies \(tensor.shape)"
      } else {
        // Layers beyond the stored count are already reported by the layer count.
        if let layer, layer.index >= foundLayers[layer.prefix, default: 0] { continue }
        text = "missing tensor \(tensor.name) (expected shape \(tensor.shape))"
      }
      // The same finding in another layer: the key with its layer index left out.
      let key =
        layer.map { text.replacingOccurrences(of: "layers.\($0.index).", with: "layers.*.") }
        ?? text
      if let seen = tensorFindings.firstIndex(where: { $0.key == key }) {
        tensorFindings[seen].repeats += 1
      } else {
        tensorFindings.append((key, text, 0))
      }
    }
    findings += tensorFindings.map {
      $0.repeats == 0 ? $0.text : "\($0.text) (and in \($0.repeats) more layers)"
    }
    for name in weights.names {
      if let info = try? weights.info(name), info.dtype.storageDType == nil {
        findings.append("\(name) is \(info.dtype.rawValue); weights must be F32, F16 or BF16")
      }
    }
    return findings
  }

  /// The layer stack prefix and index of a key like `model.layers.3.ffn_norm.weight`.
  static func layerIndex(_ name: String) -> (prefix: String, index: Int)? {
    guard let range = name.range(of: "layers.") else { return nil }
    let rest = name[range.upperBound...]
    guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) else { return nil }
    return (String(name[..<range.upperBound]), index)
  }
}
