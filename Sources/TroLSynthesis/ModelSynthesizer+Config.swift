internal import Foundation

extension ModelSynthesizer {
  /// config.json for a shape: the released key set, with `layers` (when given) replacing the
  /// decoder's and the tower's layer counts.
  static func configJSON(_ shape: Shape, layers: Int?) -> String {
    switch shape {
    case .tiny:
      return internLM2Config(
        hidden: 64, heads: 4, kvHeads: 2, layers: layers ?? 3, intermediate: 160, vocabulary: 520,
        ropeFactor: 2,
        vision: (imageSize: 56, hidden: 32, layers: layers ?? 2, heads: 2, intermediate: 64))
    case .b1_8:
      // The released configs have no vision_config: the tower is CLIP-L/14 at img_size. It is
      // written out only when the layer count changes.
      return internLM2Config(
        hidden: 2048, heads: 16, kvHeads: 8, layers: layers ?? 24, intermediate: 8192,
        vocabulary: 92544, ropeFactor: 2,
        vision: layers.map { (490, 1024, $0, 16, 4096) }, imageSize: 490)
    case .b7:
      return internLM2Config(
        hidden: 4096, heads: 32, kvHeads: 8, layers: layers ?? 32, intermediate: 14336,
        vocabulary: 92544, ropeFactor: 1,
        vision: layers.map { (490, 1024, $0, 16, 4096) }, imageSize: 490)
    case .b3_8:
      return phi3Config(layers: layers ?? 32, visionLayers: layers ?? 24)
    }
  }

  private static func internLM2Config(
    hidden: Int, heads: Int, kvHeads: Int, layers: Int, intermediate: Int, vocabulary: Int,
    ropeFactor: Double,
    vision: (imageSize: Int, hidden: Int, layers: Int, heads: Int, intermediate: Int)?,
    imageSize: Int? = nil
  ) -> String {
    var text = """
      {
        "bias": false,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": \(hidden),
        "img_size": \(vision?.imageSize ?? imageSize ?? 490),
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
    if let vision {
      text += """
          "vision_config": {
            "hidden_size": \(vision.hidden),
            "intermediate_size": \(vision.intermediate),
            "num_hidden_layers": \(vision.layers),
            "num_attention_heads": \(vision.heads),
            "num_channels": 3,
            "image_size": \(vision.imageSize),
            "patch_size": 14,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-05,
            "projection_dim": \(vision.hidden)
          },

        """
    }
    return text + "  \"vocab_size\": \(vocabulary)\n}\n"
  }

  /// TroL-3.8B: Phi-3-mini-128k + InternViT-300M-448px.
  private static func phi3Config(layers: Int, visionLayers: Int) -> String {
    // Plausible LongRoPE factors (the released values were not available): short near 1, long
    // growing.
    let short = (0..<48).map { String(format: "%.6f", 1 + Double($0) * 0.02) }
      .joined(separator: ", ")
    let long = (0..<48).map { String(format: "%.6f", 1 + pow(Double($0), 1.6) * 0.2) }
      .joined(separator: ", ")
    return """
      {
        "architectures": ["TroLForCausalLM"],
        "downsample_ratio": 0.5,
        "dynamic_image_size": true,
        "force_image_size": 448,
        "llm_config": {
          "architectures": ["Phi3ForCausalLM"],
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "embd_pdrop": 0.0,
          "eos_token_id": 32000,
          "hidden_act": "silu",
          "hidden_size": 3072,
          "initializer_range": 0.02,
          "intermediate_size": 8192,
          "max_position_embeddings": 131072,
          "model_type": "phi3",
          "num_attention_heads": 32,
          "num_hidden_layers": \(layers),
          "num_key_value_heads": 32,
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
          "vocab_size": 32064
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
          "hidden_size": 1024,
          "image_size": 448,
          "initializer_factor": 0.1,
          "initializer_range": 1e-10,
          "intermediate_size": 4096,
          "layer_norm_eps": 1e-06,
          "model_type": "intern_vit_6b",
          "norm_type": "layer_norm",
          "num_attention_heads": 16,
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
  }
}
