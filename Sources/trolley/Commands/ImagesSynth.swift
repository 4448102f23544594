import ArgumentParser
import Foundation
import TroL
import TroLSynthesis

/// `trolley images synth`: writes deterministic sample PNGs.
struct ImagesSynth: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Write synthetic sample images (PNG) for demos and smoke tests.",
    discussion: """
      Pictures of coloured shapes on a gradient, in several sizes; the same seed always gives the \
      same files. Existing files with the same names are replaced.

      Example:
        trolley images synth --out /tmp/sample-images --count 12
      """)

  @Option(help: "The folder to write into (created if missing).")
  var out: String

  @Option(help: "How many images to write (1-100000).")
  var count = 12

  @Option(help: "Seed for the pictures.")
  var seed: UInt64 = 0

  @Flag(help: "Print the written paths as a JSON array.")
  var json = false

  func validate() throws {
    guard (1...100_000).contains(count) else {
      throw ValidationError("--count must be between 1 and 100000, got \(count)")
    }
  }

  func run() throws {
    do {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    } catch {
      throw ValidationError("cannot create \(out): \(error.localizedDescription)")
    }
    var paths: [String] = []
    for index in 0..<count {
      let path = (out as NSString).appendingPathComponent(String(format: "sample-%04d.png", index))
      let bytes = PNGEncoder.encode(SampleImages.make(index: index, seed: seed))
      guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw ValidationError("cannot write \(path): check that the folder is writable")
      }
      paths.append(path)
    }
    if json {
      let data = try JSONSerialization.data(
        withJSONObject: paths, options: [.withoutEscapingSlashes])
      print(String(decoding: data, as: UTF8.self))
    } else {
      print("wrote \(count) images to \(out)")
    }
  }
}
