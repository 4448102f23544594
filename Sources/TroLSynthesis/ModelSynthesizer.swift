internal import Foundation
internal import TroL
internal import TrolleyBasics

/// Writes random-weight TroL checkpoints in the released layout (config.json, one 16-bit
/// model.safetensors streamed to disk, trol_gating.pt, tokenizer files) at the real shapes, for
/// demos, benchmarks and scale tests without downloading the released weights.
///
/// The config is validated like a downloaded one, and the weights are exactly its family's tensor
/// list (`ModelConfig.tensors`), written through `SafeTensorsWriter` (escaped names, written aside
/// and renamed into place). The tokenizer is generated too: a byte-fallback BPE SentencePiece model
/// (InternLM2 family) or a Hugging Face tokenizer.json (Phi-3 family) with the real vocabulary
/// size, the family's special and added tokens at their real ids, and filler pieces that ordinary
/// text never produces.
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
  ///   - layers: decoder and vision layers instead of the real counts (every width stays real),
  ///     for tests of the big shapes; nil keeps the real counts.
  ///   - progress: called with the weight bytes written so far and their total, after each
  ///     chunk (1 MiB of floats) while the weights are written; cheap callers rate-limit it.
  /// - Throws: `TroLError.io` when a file cannot be written, `.invalidRequest` for `layers` < 1.
  public static func write(
    _ shape: Shape, to directory: String, seed: UInt64, layers: Int? = nil,
    progress: (_ written: Int64, _ total: Int64) -> Void = { _, _ in }
  ) throws {
    if let layers, layers < 1 {
      throw TroLError(.invalidRequest, "--layers must be at least 1, got \(layers)")
    }
    let configText = configJSON(shape, layers: layers)
    let config = try ModelConfig(
      json: Array(configText.utf8), source: "model synth --like \(shape.rawValue)")
    try writeFolder(
      directory, configText: configText, config: config, tensors: config.tensors,
      tokenizer: tokenizerFiles(shape, vocabulary: config.decoder.vocabSize), seed: seed,
      progress: progress)
  }

  /// Writes a checkpoint folder: `configText` (already validated as `config`) as config.json,
  /// `tensors` as model.safetensors, a gate for `config`'s decoder, and the tokenizer files.
  static func writeFolder(
    _ directory: String, configText: String, config: ModelConfig, tensors: [CheckpointTensor],
    tokenizer: [(String, Data)], seed: UInt64,
    progress: (_ written: Int64, _ total: Int64) -> Void
  ) throws {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw TroLError(.io, "cannot create \(directory): \(error.localizedDescription)")
    }
    let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
    try writeFile(path("config.json"), Data(configText.utf8))
    try writeWeights(tensors, to: path("model.safetensors"), seed: seed, progress: progress)
    try gate(hidden: config.decoder.hiddenSize, layers: config.decoder.layers, seed: seed).write(
      to: path("trol_gating.pt"))
    for (name, data) in tokenizer { try writeFile(path(name), data) }
  }

  /// The tokenizer files of a shape's family.
  static func tokenizerFiles(_ shape: Shape, vocabulary: Int) -> [(String, Data)] {
    switch shape {
    case .tiny, .b1_8, .b7:
      return [
        ("tokenizer.model", SentencePieceSynth.model(vocabulary: vocabulary)),
        ("added_tokens.json", Data("{\n  \"<image>\": \(vocabulary)\n}".utf8)),
        ("tokenizer_config.json", SentencePieceSynth.tokenizerConfig(imageID: vocabulary)),
        ("special_tokens_map.json", SentencePieceSynth.specialTokensMap),
      ]
    case .b3_8:
      return [
        ("tokenizer.json", Phi3TokenizerSynth.tokenizerJSON(baseVocabulary: 32000)),
        ("tokenizer_config.json", Phi3TokenizerSynth.tokenizerConfig(baseVocabulary: 32000)),
        ("special_tokens_map.json", Phi3TokenizerSynth.specialTokensMap),
        ("added_tokens.json", Phi3TokenizerSynth.addedTokens(baseVocabulary: 32000)),
      ]
    }
  }

  /// Streams every tensor of the list into `path` through `SafeTensorsWriter`, generated in
  /// chunks so memory stays small whatever the model size. The file appears only when complete.
  static func writeWeights(
    _ tensors: [CheckpointTensor], to path: String, seed: UInt64,
    progress: (_ written: Int64, _ total: Int64) -> Void
  ) throws {
    let writer = try SafeTensorsWriter(
      path: path,
      tensors: tensors.map { .init(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
    let total = tensors.reduce(0) { $0 + $1.count * $1.dtype.byteWidth }
    let chunk = 1 << 20
    var floats = [Float](repeating: 0, count: chunk)
    var random = SplitMix64(seed: seed)
    var written = 0
    for tensor in tensors {
      var done = 0
      while done < tensor.count {
        let n = min(chunk, tensor.count - done)
        switch tensor.initialization {
        case .constant(let value):
          for i in 0..<n { floats[i] = value }
        case .random(let std):
          // Uniform in [−√3·std, √3·std): standard deviation `std`.
          let half = std * Float(3.0.squareRoot())
          let scale = 2 * half / Float(1 << 24)
          for i in 0..<n { floats[i] = Float(random.next() >> 40) * scale - half }
        }
        try floats.withUnsafeBufferPointer {
          try writer.append(floats: UnsafeBufferPointer(rebasing: $0[0..<n]))
        }
        done += n
        written += n * tensor.dtype.byteWidth
        progress(Int64(written), Int64(total))
      }
    }
    try writer.finish()
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

  /// Writes aside and renames into place, so a reader never sees half a file.
  static func writeFile(_ path: String, _ data: Data) throws {
    do {
      try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw TroLError(.io, "cannot write \(path): \(error.localizedDescription)")
    }
  }
}
