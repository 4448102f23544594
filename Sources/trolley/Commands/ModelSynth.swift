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

  func validate() throws {
    guard ModelSynthesizer.Shape(rawValue: like) != nil else {
      throw ValidationError("--like must be one of tiny, 1.8b, 3.8b, 7b")
    }
    if let layers, layers < 1 { throw ValidationError("--layers must be at least 1") }
  }

  func run() throws {
    let start = Date()
    // A bar with rate and ETA on a terminal, a line every 10 s in logs (the 7b shape writes
    // 17 GB), as export and model fetch show theirs.
    // The total is known once the writer has the tensor list, at the first report.
    var reporter: ProgressReporter?
    try ModelSynthesizer.write(
      ModelSynthesizer.Shape(rawValue: like)!, to: out, seed: seed, layers: layers
    ) { written, total in
      let bar =
        reporter
        ?? ProgressReporter(
          label: "model synth", unit: "MiB", total: max(1, total >> 20),
          terminal: Terminal.isTerminal(2))
      reporter = bar
      bar.update(written >> 20)
    }
    reporter?.finish()
    print(String(format: "wrote %@ in %.1f s", out, Date().timeIntervalSince(start)))
  }
}
