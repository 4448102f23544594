extension ModelInspection {
  /// Disagreements between config.json and the safetensors header, found without loading the
  /// weights: layer counts and the shapes of the tensors that pin down every dimension.
  ///
  /// Empty for a consistent checkpoint. The model loader would stop at the first of these; the
  /// inspection lists them all.
  static func findings(_ model: ModelDirectory) -> [String] {
    let config = model.config
    let weights = model.weights
    let d = config.decoder
    let v = config.vision
    var findings: [String] = []

    func expect(_ key: String, _ shape: [Int]) {
      guard let info = try? weights.info(key) else {
        findings.append("missing tensor \(key) (expected shape \(shape))")
        return
      }
      if info.shape != shape {
        findings.append("\(key) has shape \(info.shape), config.json implies \(shape)")
      }
    }
    func layerCount(prefix: String) -> Int {
      var indices = Set<Int>()
      for name in weights.names where name.hasPrefix(prefix) {
        let rest = name.dropFirst(prefix.count)
        if let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) {
          indices.insert(index)
        }
      }
      return indices.count
    }
    func expectLayers(prefix: String, _ expected: Int, _ what: String) {
      let found = layerCount(prefix: prefix)
      if found != expected {
        findings.append("\(found) \(what) layers under \(prefix)*, config.json says \(expected)")
      }
    }

    let qkvRows = (d.heads + 2 * d.kvHeads) * d.headDim
    let tokens = config.imageTokensPerTile
    switch config.family {
    case .internLM2:
      let rank = InternLM2Config.ploraRank
      expectLayers(prefix: "model.layers.", d.layers, "decoder")
      expect("model.tok_embeddings.weight", [d.vocabSize + 1, d.hiddenSize])
      expect("output.weight", [d.vocabSize, d.hiddenSize])
      expect("model.layers.0.attention.wqkv.ffn.weight", [qkvRows, d.hiddenSize])
      expect("model.layers.0.attention.wqkv.lora_A.weight", [rank, d.hiddenSize])
      expect("model.layers.0.feed_forward.w2.ffn.weight", [d.hiddenSize, d.intermediateSize])
      let tower = "vit.vision_tower.vision_model."
      expectLayers(prefix: tower + "encoder.layers.", v.layers, "vision")
      expect(
        tower + "embeddings.patch_embedding.weight", [v.hiddenSize, 3, v.patchSize, v.patchSize])
      expect(tower + "embeddings.position_embedding.weight", [tokens + 1, v.hiddenSize])
      expect(tower + "encoder.layers.0.mlp.fc1.weight", [v.intermediateSize, v.hiddenSize])
      expect("vision_proj.0.weight", [d.hiddenSize, v.hiddenSize])
      expect("vision_proj.2.weight", [d.hiddenSize, d.hiddenSize])
    case .phi3:
      let shuffled = config.phi3?.shuffledWidth ?? 4 * v.hiddenSize
      let grid = v.imageSize / v.patchSize
      expectLayers(prefix: "language_model.model.layers.", d.layers, "decoder")
      expect("language_model.model.embed_tokens.weight", [d.vocabSize, d.hiddenSize])
      expect("language_model.lm_head.weight", [d.vocabSize, d.hiddenSize])
      expect("language_model.model.layers.0.self_attn.qkv_proj.weight", [qkvRows, d.hiddenSize])
      expect(
        "language_model.model.layers.0.mlp.gate_up_proj.weight",
        [2 * d.intermediateSize, d.hiddenSize])
      expectLayers(prefix: "vision_model.encoder.layers.", v.layers, "vision")
      expect(
        "vision_model.embeddings.patch_embedding.weight",
        [v.hiddenSize, 3, v.patchSize, v.patchSize])
      expect("vision_model.embeddings.position_embedding", [1, grid * grid + 1, v.hiddenSize])
      expect("vision_model.encoder.layers.0.mlp.fc1.weight", [v.intermediateSize, v.hiddenSize])
      expect("vision_proj.0.weight", [shuffled])
      expect("vision_proj.1.weight", [d.hiddenSize, shuffled])
      expect("vision_proj.3.weight", [d.hiddenSize, d.hiddenSize])
    }
    for name in weights.names {
      if let info = try? weights.info(name), info.dtype.storageDType == nil {
        findings.append("\(name) is \(info.dtype.rawValue); weights must be F32, F16 or BF16")
      }
    }
    return findings
  }
}
