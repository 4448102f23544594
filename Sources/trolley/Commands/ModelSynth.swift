import ArgumentParser
import Foundation
import TroL
import TroLSynthesis
import TrolleyCLIKit

/// `trolley model synth`: a random-weight checkpoint with the real layout and shapes.
struct ModelSynth: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract:
      "Write a random-weight TroL checkpoint folder with the released layout and real shapes.",
    discussion: """
      Writes config.json, a 16-bit model.safetensors (streamed, so memory stays small), \
      trol_gating.pt and generated tokenizer files with the real vocabulary size. Answers are \
      random text; use it for demos, benchmarks and memory tests. Sizes: tiny a few MB, 1.8b \
      4.9 GB, 3.8b 8.3 GB, 7b 17.3 GB.

      Example:
        trolley model synth --like 1.8b --out /tmp/trol-1.8b && \
        trolley ask --model /tmp/trol-1.8b --image photo.jpg --question 'What is this?'
        trolley model synth --like 7b --layers 1 --out /tmp/trol-7b-1   # real widths, 1 layer

      Custom sizes (--like tiny only; the TroL-1.8B layout at any small size, for training from \
      scratch with `trolley train start --trainable all`):
        trolley model synth --like tiny --hidden 128 --layers 4 --heads 4 --kv-heads 2 \
          --intermediate 352 --image-size 64 --patch-size 16 --vision-hidden 64 \
          --vision-layers 2 --vision-heads 2 --vision-intermediate 128 \
          --tokenizer Tests/Fixtures/trol-tiny/internlm2/model --init scratch --out /tmp/tiny
      """)

  @Option(help: "The model to imitate: tiny, 1.8b, 3.8b or 7b.")
  var like: String

  @Option(help: "The output folder (created; files in it are replaced).")
  var out: String

  @Option(help: "Random seed; the same seed writes the same files.")
  var seed: UInt64 = 0

  @Option(
    help:
      "Decoder and vision layers instead of the real counts (every width stays real): a small file with the real shapes, for tests."
  )
  var layers: Int?

  @Option(help: "Decoder width (--like tiny only).")
  var hidden: Int?
  @Option(help: "Attention heads of the decoder (--like tiny only).")
  var heads: Int?
  @Option(help: "Key/value heads of the decoder (--like tiny only).")
  var kvHeads: Int?
  @Option(help: "Decoder feed-forward width (--like tiny only).")
  var intermediate: Int?
  @Option(help: "Image side in pixels, img_size (--like tiny only).")
  var imageSize: Int?
  @Option(help: "CLIP patch side; must divide --image-size (--like tiny only).")
  var patchSize: Int?
  @Option(help: "CLIP tower width (--like tiny only).")
  var visionHidden: Int?
  @Option(help: "CLIP tower layers; with --layers alone the tower gets as many (--like tiny only).")
  var visionLayers: Int?
  @Option(help: "CLIP tower heads (--like tiny only).")
  var visionHeads: Int?
  @Option(help: "CLIP tower feed-forward width (--like tiny only).")
  var visionIntermediate: Int?
  @Option(
    help:
      "Copy the tokenizer files (tokenizer.model, added_tokens.json, tokenizer_config.json, special_tokens_map.json) from this folder; its vocabulary sets vocab_size (--like tiny only)."
  )
  var tokenizer: String?
  @Option(
    help:
      "How the weights start: demo (plausible scales for inference) or scratch (PLoRA B at zero and a small LM head, for training from scratch)."
  )
  var `init` = "demo"

  private var dimensions: ModelSynthesizer.Dimensions {
    ModelSynthesizer.Dimensions(
      hidden: hidden, layers: layers, heads: heads, kvHeads: kvHeads, intermediate: intermediate,
      imageSize: imageSize, patchSize: patchSize, visionHidden: visionHidden,
      visionLayers: visionLayers ?? layers, visionHeads: visionHeads,
      visionIntermediate: visionIntermediate)
  }

  private var isCustom: Bool {
    [
      hidden, heads, kvHeads, intermediate, imageSize, patchSize, visionHidden, visionLayers,
      visionHeads, visionIntermediate,
    ].contains { $0 != nil } || tokenizer != nil || `init` != "demo"
  }

  func validate() throws {
    guard ModelSynthesizer.Shape(rawValue: like) != nil else {
      throw ValidationError("--like must be one of tiny, 1.8b, 3.8b, 7b")
    }
    if let layers, layers < 1 { throw ValidationError("--layers must be at least 1") }
    guard ModelSynthesizer.Initialization(rawValue: `init`) != nil else {
      throw ValidationError("--init must be demo or scratch, got \(`init`)")
    }
    if isCustom && like != "tiny" {
      throw ValidationError(
        "custom sizes, --tokenizer and --init work with --like tiny only (the InternLM2 layout); drop them or use --like tiny"
      )
    }
    let sizes: [(String, Int?)] = [
      ("--hidden", hidden), ("--heads", heads), ("--kv-heads", kvHeads),
      ("--intermediate", intermediate), ("--image-size", imageSize), ("--patch-size", patchSize),
      ("--vision-hidden", visionHidden), ("--vision-layers", visionLayers),
      ("--vision-heads", visionHeads), ("--vision-intermediate", visionIntermediate),
    ]
    for (name, value) in sizes {
      if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
    }
  }

  func run() throws {
    let start = Date()
    // A bar with rate and ETA on a terminal, a line every 10 s in logs (the 7b shape writes
    // 17 GB), as export and model fetch show theirs.
    // The total is known once the writer has the tensor list, at the first report.
    var reporter: ProgressReporter?
    let progress = { (written: Int64, total: Int64) in
      let bar =
        reporter
        ?? ProgressReporter(
          label: "model synth", unit: "MiB", total: max(1, total >> 20),
          terminal: Terminal.isTerminal(2))
      reporter = bar
      bar.update(written >> 20)
    }
    if isCustom {
      try ModelSynthesizer.write(
        custom: dimensions, to: out, seed: seed, tokenizerDirectory: tokenizer,
        initialization: ModelSynthesizer.Initialization(rawValue: `init`) ?? .demo,
        progress: progress)
    } else {
      try ModelSynthesizer.write(
        ModelSynthesizer.Shape(rawValue: like)!, to: out, seed: seed, layers: layers,
        progress: progress)
    }
    reporter?.finish()
    print(String(format: "wrote %@ in %.1f s", out, Date().timeIntervalSince(start)))
  }
}
