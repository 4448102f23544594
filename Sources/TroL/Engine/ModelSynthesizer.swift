internal import Foundation
internal import Tensor

/// Writes random-weight TroL checkpoints in the released layout (config.json, one 16-bit
/// model.safetensors streamed to disk, trol_gating.pt, tokenizer files) at the real shapes, for
/// demos, benchmarks and scale tests without downloading the released weights.
///
/// The tokenizer is generated too: a byte-fallback BPE SentencePiece model (InternLM2 family) or a
/// Hugging Face tokenizer.json (Phi-3 family) with the real vocabulary size, the family's special
/// and added tokens at their real ids, and filler pieces that ordinary text never produces.
public enum ModelSynthesizer {
  /// The shapes `trolley model synth --like` knows.
  public enum Shape: String, Sendable, CaseIterable {
    /// InternLM2 family, fixture-sized (a few MB): D 64, 3 layers, CLIP 32 wide at 56 px.
    case tiny
    /// TroL-1.8B: InternLM2-1.8B + PLoRA, CLIP-L/14 at 490 px.
    case b1_8 = "1.8b"
    /// TroL-3.8B: Phi-3-mini, InternViT-300M at 448 px tiles.
    case b3_8 = "3.8b"
    /// TroL-7B: InternLM2-7B + PLoRA, CLIP-L/14 at 490 px.
    case b7 = "7b"
  }

  /// Writes a checkpoint folder.
  ///
  /// - Parameters:
  ///   - shape: which model to imitate.
  ///   - directory: the output folder (created; existing files are replaced).
  ///   - seed: the random seed (the same seed writes the same bytes).
  ///   - progress: called with a line of text per tensor group written.
  /// - Throws: `TroLError.io` when a file cannot be written.
  public static func write(
    _ shape: Shape, to directory: String, seed: UInt64, progress: (String) -> Void = { _ in }
  ) throws {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw TroLError(.io, "cannot create \(directory): \(error.localizedDescription)")
    }
    let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
    switch shape {
    case .tiny, .b1_8, .b7:
      let dims = InternLM2Dims(shape)
      try writeFile(path("config.json"), dims.configJSON)
      let tensors = dims.tensors
      try SafeTensorsStreamWriter.write(
        tensors, dtype: .f16, to: path("model.safetensors"), seed: seed, progress: progress)
      try gate(hidden: dims.hidden, layers: dims.layers, seed: seed).write(
        to: path("trol_gating.pt"))
      try writeFile(path("tokenizer.model"), SentencePieceSynth.model(vocabulary: dims.vocabulary))
      try writeFile(path("added_tokens.json"), Data("{\n  \"<image>\": \(dims.vocabulary)\n}".utf8))
      try writeFile(
        path("tokenizer_config.json"), SentencePieceSynth.tokenizerConfig(imageID: dims.vocabulary))
      try writeFile(path("special_tokens_map.json"), SentencePieceSynth.specialTokensMap)
    case .b3_8:
      let dims = Phi3Dims()
      try writeFile(path("config.json"), dims.configJSON)
      try SafeTensorsStreamWriter.write(
        dims.tensors, dtype: .bf16, to: path("model.safetensors"), seed: seed, progress: progress)
      try gate(hidden: dims.hidden, layers: dims.layers, seed: seed).write(
        to: path("trol_gating.pt"))
      try writeFile(path("tokenizer.json"), Phi3TokenizerSynth.tokenizerJSON(baseVocabulary: 32000))
      try writeFile(
        path("tokenizer_config.json"), Phi3TokenizerSynth.tokenizerConfig(baseVocabulary: 32000))
      try writeFile(path("special_tokens_map.json"), Phi3TokenizerSynth.specialTokensMap)
      try writeFile(
        path("added_tokens.json"), Phi3TokenizerSynth.addedTokens(baseVocabulary: 32000))
    }
  }

  /// A gate whose w spreads over (0, 1) on unit-scale activations.
  static func gate(hidden: Int, layers: Int, seed: UInt64) -> TroLGate {
    var random = SplitMix64(seed: seed ^ 0x6A7E)
    let scale = 1 / Float(hidden).squareRoot()
    let weight = (0..<hidden).map { _ in
      (Float(random.next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    // Rounded to bf16 like the released gate.
    let rounded = weight.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) }
    return TroLGate(weight: rounded, bias: -0.25, layerEntries: layers)
  }

  static func writeFile(_ path: String, _ data: Data) throws {
    do {
      try data.write(to: URL(fileURLWithPath: path))
    } catch {
      throw TroLError(.io, "cannot write \(path): \(error.localizedDescription)")
    }
  }
}

/// One tensor to synthesize: key, shape, and how to fill it.
struct SynthTensor {
  enum Fill {
    /// Uniform with this standard deviation.
    case random(std: Float)
    case constant(Float)
  }
  var name: String
  var shape: [Int]
  var fill: Fill

  static func linear(_ name: String, _ out: Int, _ inFeatures: Int) -> SynthTensor {
    SynthTensor(
      name: name, shape: [out, inFeatures], fill: .random(std: 1 / Float(inFeatures).squareRoot()))
  }
  static func ones(_ name: String, _ n: Int) -> SynthTensor {
    SynthTensor(name: name, shape: [n], fill: .constant(1))
  }
  static func zeros(_ name: String, _ n: Int) -> SynthTensor {
    SynthTensor(name: name, shape: [n], fill: .constant(0))
  }
}

/// TroL-1.8B / 7B (and the tiny fixture shape) dimensions and tensor list.
struct InternLM2Dims {
  var hidden: Int, heads: Int, kvHeads: Int, layers: Int, intermediate: Int, vocabulary: Int
  var imageSize: Int
  var visionHidden: Int, visionLayers: Int, visionHeads: Int, visionIntermediate: Int
  var ropeFactor: Double
  var tiny: Bool

  init(_ shape: ModelSynthesizer.Shape) {
    switch shape {
    case .tiny:
      (hidden, heads, kvHeads, layers, intermediate, vocabulary) = (64, 4, 2, 3, 160, 520)
      (imageSize, visionHidden, visionLayers, visionHeads, visionIntermediate) = (56, 32, 2, 2, 64)
      (ropeFactor, tiny) = (2, true)
    case .b7:
      (hidden, heads, kvHeads, layers, intermediate, vocabulary) = (4096, 32, 8, 32, 14336, 92544)
      (imageSize, visionHidden, visionLayers, visionHeads, visionIntermediate) = (
        490, 1024, 24, 16, 4096
      )
      (ropeFactor, tiny) = (1, false)
    default:
      (hidden, heads, kvHeads, layers, intermediate, vocabulary) = (2048, 16, 8, 24, 8192, 92544)
      (imageSize, visionHidden, visionLayers, visionHeads, visionIntermediate) = (
        490, 1024, 24, 16, 4096
      )
      (ropeFactor, tiny) = (2, false)
    }
  }

  /// The released key set (sorted), plus `vision_config` for the tiny shape (whose CLIP is not the
  /// CLIP-L the released models take from the hub).
  var configJSON: Data {
    var text = """
      {
        "bias": false,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": \(hidden),
        "img_size": \(imageSize),
        "initializer_range": 0.02,
        "intermediate_size": \(intermediate),
        "max_length": 4096,
        "max_position_embeddings": 32768,
        "model_type": "internlm",
        "num_attention_heads": \(heads),
        "num_hidden_layers": \(layers),
        "num_key_value_heads": \(kvHeads),
        "pad_token_id": 2,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
          "type": "dynamic",
          "factor": \(ropeFactor)
        },
        "rope_theta": 1000000,
        "tie_word_embeddings": false,
        "torch_dtype": "float16",
        "transformers_version": "4.41.2",
        "use_cache": false,

      """
    if tiny {
      text += """
          "vision_config": {
            "hidden_size": \(visionHidden),
            "intermediate_size": \(visionIntermediate),
            "num_hidden_layers": \(visionLayers),
            "num_attention_heads": \(visionHeads),
            "num_channels": 3,
            "image_size": \(imageSize),
            "patch_size": 14,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-05,
            "projection_dim": \(visionHidden)
          },

        """
    }
    text += "  \"vocab_size\": \(vocabulary)\n}\n"
    return Data(text.utf8)
  }

  var tensors: [SynthTensor] {
    let D = hidden
    let Dh = hidden / heads
    let F = intermediate
    let R = 256
    let qkv = (heads + 2 * kvHeads) * Dh
    var list: [SynthTensor] = []
    func plora(_ p: String, _ out: Int, _ inFeatures: Int) {
      list.append(.linear(p + ".ffn.weight", out, inFeatures))
      list.append(.linear(p + ".lora_A.weight", R, inFeatures))
      // Small B: the image-token correction stays a correction.
      list.append(
        SynthTensor(
          name: p + ".lora_B.weight", shape: [out, R],
          fill: .random(std: 0.1 / Float(R).squareRoot())))
    }
    for i in 0..<layers {
      let p = "model.layers.\(i)."
      list.append(.ones(p + "attention_norm.weight", D))
      plora(p + "attention.wqkv", qkv, D)
      plora(p + "attention.wo", D, heads * Dh)
      list.append(.ones(p + "ffn_norm.weight", D))
      plora(p + "feed_forward.w1", F, D)
      plora(p + "feed_forward.w3", F, D)
      plora(p + "feed_forward.w2", D, F)
    }
    list.append(.ones("model.norm.weight", D))
    list.append(
      SynthTensor(
        name: "model.tok_embeddings.weight", shape: [vocabulary + 1, D], fill: .random(std: 0.3)))
    list.append(
      SynthTensor(
        name: "output.weight", shape: [vocabulary, D],
        fill: .random(std: 2.5 / Float(D).squareRoot())))
    let C = visionHidden
    let G = imageSize / 14
    let v = "vit.vision_tower.vision_model."
    list.append(
      SynthTensor(name: v + "embeddings.class_embedding", shape: [C], fill: .random(std: 0.02)))
    list.append(
      SynthTensor(
        name: v + "embeddings.patch_embedding.weight", shape: [C, 3, 14, 14],
        fill: .random(std: 1 / Float(588).squareRoot())))
    list.append(
      SynthTensor(
        name: v + "embeddings.position_embedding.weight", shape: [G * G + 1, C],
        fill: .random(std: 0.02)))
    list.append(.ones(v + "pre_layrnorm.weight", C))
    list.append(.zeros(v + "pre_layrnorm.bias", C))
    for i in 0..<visionLayers {
      let l = v + "encoder.layers.\(i)."
      for n in ["layer_norm1", "layer_norm2"] {
        list.append(.ones(l + n + ".weight", C))
        list.append(.zeros(l + n + ".bias", C))
      }
      for n in ["q_proj", "k_proj", "v_proj", "out_proj"] {
        list.append(.linear(l + "self_attn.\(n).weight", C, C))
        list.append(.zeros(l + "self_attn.\(n).bias", C))
      }
      list.append(.linear(l + "mlp.fc1.weight", visionIntermediate, C))
      list.append(.zeros(l + "mlp.fc1.bias", visionIntermediate))
      list.append(.linear(l + "mlp.fc2.weight", C, visionIntermediate))
      list.append(.zeros(l + "mlp.fc2.bias", C))
    }
    list.append(.ones(v + "post_layernorm.weight", C))
    list.append(.zeros(v + "post_layernorm.bias", C))
    list.append(.linear("vision_proj.0.weight", D, C))
    list.append(.zeros("vision_proj.0.bias", D))
    list.append(.linear("vision_proj.2.weight", D, D))
    list.append(.zeros("vision_proj.2.bias", D))
    return list
  }
}

/// TroL-3.8B dimensions (Phi-3-mini-128k + InternViT-300M-448px) and tensor list.
struct Phi3Dims {
  let hidden = 3072, heads = 32, layers = 32, intermediate = 8192, vocabulary = 32064
  let visionHidden = 1024, visionLayers = 24, visionHeads = 16, visionIntermediate = 4096,
    tile = 448

  var configJSON: Data {
    // Plausible LongRoPE factors (the released values were not available): short near 1, long growing.
    let short = (0..<48).map { String(format: "%.6f", 1 + Double($0) * 0.02) }.joined(
      separator: ", ")
    let long = (0..<48).map { String(format: "%.6f", 1 + pow(Double($0), 1.6) * 0.2) }.joined(
      separator: ", ")
    let text = """
      {
        "architectures": ["TroLForCausalLM"],
        "downsample_ratio": 0.5,
        "dynamic_image_size": true,
        "force_image_size": \(tile),
        "llm_config": {
          "architectures": ["Phi3ForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "embd_pdrop": 0.0,
          "eos_token_id": 32000,
          "hidden_act": "silu",
          "hidden_size": \(hidden),
          "initializer_range": 0.02,
          "intermediate_size": \(intermediate),
          "max_position_embeddings": 131072,
          "model_type": "phi3",
          "num_attention_heads": \(heads),
          "num_hidden_layers": \(layers),
          "num_key_value_heads": \(heads),
          "original_max_position_embeddings": 4096,
          "pad_token_id": 32000,
          "resid_pdrop": 0.0,
          "rms_norm_eps": 1e-05,
          "rope_scaling": {"long_factor": [\(long)], "short_factor": [\(short)], "type": "su"},
          "rope_theta": 10000.0,
          "sliding_window": 262144,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "use_cache": true,
          "vocab_size": \(vocabulary)
        },
        "max_dynamic_patch": 6,
        "min_dynamic_patch": 1,
        "model_type": "trol",
        "pad2square": false,
        "ps_version": "v2",
        "select_layer": -1,
        "template": "phi3-chat",
        "torch_dtype": "bfloat16",
        "use_backbone_lora": 0,
        "use_llm_lora": 0,
        "use_thumbnail": true,
        "vision_config": {
          "architectures": ["InternVisionModel"],
          "attention_dropout": 0.0,
          "drop_path_rate": 0.0,
          "dropout": 0.0,
          "hidden_act": "gelu",
          "hidden_size": \(visionHidden),
          "image_size": \(tile),
          "initializer_factor": 0.1,
          "initializer_range": 1e-10,
          "intermediate_size": \(visionIntermediate),
          "layer_norm_eps": 1e-06,
          "model_type": "intern_vit_6b",
          "norm_type": "layer_norm",
          "num_attention_heads": \(visionHeads),
          "num_channels": 3,
          "num_hidden_layers": \(visionLayers),
          "patch_size": 14,
          "qk_normalization": false,
          "qkv_bias": true,
          "torch_dtype": "bfloat16",
          "use_flash_attn": true
        }
      }

      """
    return Data(text.utf8)
  }

  var tensors: [SynthTensor] {
    let D = hidden
    let F = intermediate
    var list: [SynthTensor] = []
    let p = "language_model.model."
    for i in 0..<layers {
      let l = p + "layers.\(i)."
      list.append(.ones(l + "input_layernorm.weight", D))
      list.append(.linear(l + "self_attn.qkv_proj.weight", 3 * D, D))
      list.append(.linear(l + "self_attn.o_proj.weight", D, D))
      list.append(.ones(l + "post_attention_layernorm.weight", D))
      list.append(.linear(l + "mlp.gate_up_proj.weight", 2 * F, D))
      list.append(.linear(l + "mlp.down_proj.weight", D, F))
    }
    list.append(.ones(p + "norm.weight", D))
    list.append(
      SynthTensor(name: p + "embed_tokens.weight", shape: [vocabulary, D], fill: .random(std: 0.3)))
    list.append(
      SynthTensor(
        name: "language_model.lm_head.weight", shape: [vocabulary, D],
        fill: .random(std: 2.5 / Float(D).squareRoot())))
    let C = visionHidden
    let G = tile / 14
    let v = "vision_model."
    list.append(
      SynthTensor(
        name: v + "embeddings.class_embedding", shape: [1, 1, C], fill: .random(std: 0.02)))
    list.append(
      SynthTensor(
        name: v + "embeddings.patch_embedding.weight", shape: [C, 3, 14, 14],
        fill: .random(std: 1 / Float(588).squareRoot())))
    list.append(.zeros(v + "embeddings.patch_embedding.bias", C))
    list.append(
      SynthTensor(
        name: v + "embeddings.position_embedding", shape: [1, G * G + 1, C],
        fill: .random(std: 0.02)))
    for i in 0..<visionLayers {
      let l = v + "encoder.layers.\(i)."
      for n in ["norm1", "norm2"] {
        list.append(.ones(l + n + ".weight", C))
        list.append(.zeros(l + n + ".bias", C))
      }
      list.append(.linear(l + "attn.qkv.weight", 3 * C, C))
      list.append(.zeros(l + "attn.qkv.bias", 3 * C))
      list.append(.linear(l + "attn.proj.weight", C, C))
      list.append(.zeros(l + "attn.proj.bias", C))
      list.append(.linear(l + "mlp.fc1.weight", visionIntermediate, C))
      list.append(.zeros(l + "mlp.fc1.bias", visionIntermediate))
      list.append(.linear(l + "mlp.fc2.weight", C, visionIntermediate))
      list.append(.zeros(l + "mlp.fc2.bias", C))
      list.append(SynthTensor(name: l + "ls1", shape: [C], fill: .constant(0.5)))
      list.append(SynthTensor(name: l + "ls2", shape: [C], fill: .constant(0.5)))
    }
    list.append(.ones("vision_proj.0.weight", 4 * C))
    list.append(.zeros("vision_proj.0.bias", 4 * C))
    list.append(.linear("vision_proj.1.weight", D, 4 * C))
    list.append(.zeros("vision_proj.1.bias", D))
    list.append(.linear("vision_proj.3.weight", D, D))
    list.append(.zeros("vision_proj.3.bias", D))
    return list
  }
}

/// Streams tensors into a safetensors file: the header first (offsets computed from the shapes),
/// then each tensor generated in chunks, so memory stays small whatever the model size.
enum SafeTensorsStreamWriter {
  static func write(
    _ tensors: [SynthTensor], dtype: StorageDType, to path: String, seed: UInt64,
    progress: (String) -> Void
  ) throws {
    let width = dtype.byteWidth
    let dtypeName = dtype.rawValue
    var entries: [String] = []
    var offset = 0
    for t in tensors {
      let bytes = t.shape.reduce(1, *) * width
      let shape = t.shape.map(String.init).joined(separator: ",")
      entries.append(
        "\"\(t.name)\":{\"dtype\":\"\(dtypeName)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}"
      )
      offset += bytes
    }
    var header = Array(
      ("{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else { throw TroLError(.io, "cannot create \(path)") }
    defer { try? handle.close() }
    var length = UInt64(header.count).littleEndian
    let chunk = 1 << 20
    var floats = [Float](repeating: 0, count: chunk)
    var out = [UInt8](repeating: 0, count: chunk * width)
    do {
      try handle.write(contentsOf: Data(bytes: &length, count: 8))
      try handle.write(contentsOf: Data(header))
      var random = SplitMix64(seed: seed)
      var written = 0
      for t in tensors {
        let count = t.shape.reduce(1, *)
        var done = 0
        while done < count {
          let n = min(chunk, count - done)
          switch t.fill {
          case .constant(let value):
            for i in 0..<n { floats[i] = value }
          case .random(let std):
            // Uniform in [−√3·std, √3·std): standard deviation `std`.
            let scale = std * 3.0.squareRoot().asFloat * 2 / Float(1 << 24)
            let shift = std * 3.0.squareRoot().asFloat
            for i in 0..<n { floats[i] = Float(random.next() >> 40) * scale - shift }
          }
          floats.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBytes { destination in
              if dtype == .bf16 {
                HalfConversion.narrowToBF16(
                  source.baseAddress!, into: destination.baseAddress!, count: n)
              } else {
                HalfConversion.narrowToF16(
                  source.baseAddress!, into: destination.baseAddress!, count: n)
              }
            }
          }
          try handle.write(contentsOf: Data(out[0..<(n * width)]))
          done += n
        }
        written += count * width
        if t.name.hasSuffix("norm.weight") && t.name.contains("layers.") == false
          || t.name.contains(".0.attention_norm")
        {
          progress("\(written >> 20) MiB of \(offset >> 20) MiB")
        }
      }
    } catch let error as TroLError {
      throw error
    } catch {
      throw TroLError(.io, "cannot write \(path): \(error.localizedDescription)")
    }
  }
}

extension Double {
  fileprivate var asFloat: Float { Float(self) }
}
