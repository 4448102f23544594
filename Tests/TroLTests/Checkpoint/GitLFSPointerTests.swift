import Foundation
import Tensor
import Testing
import TrolleyBasics

@testable import TroL

/// A checkpoint cloned without git-lfs holds pointer files; every loader names them and says to
/// run `git lfs pull` (it used to fail with "header length 2336927755350992246 is not sane").
@Suite struct GitLFSPointerTests {
  static let pointer = """
    version https://git-lfs.github.com/spec/v1
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
    size 3637491584

    """

  /// A copy of the tiny model folder with `file` replaced by a pointer.
  static func checkpoint(withPointerAt file: String) throws -> String {
    let folder = try CheckpointFixtures.scratchFolder()
    let source = CheckpointFixtures.model("internlm2")
    for name in try FileManager.default.contentsOfDirectory(atPath: source) {
      try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
    }
    try FileManager.default.removeItem(atPath: folder + "/" + file)
    try Data(pointer.utf8).write(to: URL(fileURLWithPath: folder + "/" + file))
    return folder
  }

  @Test func parsesThePointer() throws {
    let parsed = try #require(GitLFSPointer.parse(Array(Self.pointer.utf8)))
    #expect(parsed.size == 3_637_491_584)
    #expect(parsed.sha256?.hasPrefix("4d7a2146") == true)
    #expect(GitLFSPointer.parse(Array("version 1\n".utf8)) == nil)
    #expect(GitLFSPointer.parse(Array(repeating: 0, count: 8)) == nil)
  }

  @Test(arguments: ["model.safetensors", "trol_gating.pt", "tokenizer.model"])
  func everyLoaderNamesThePointer(file: String) throws {
    let folder = try Self.checkpoint(withPointerAt: file)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let error = #expect(throws: TroLError.self) {
      _ = try TroLEngine.load(modelDirectory: folder, weights: .f32)
    }
    let message = error?.message ?? ""
    #expect(message.contains("git lfs pull"), "\(message)")
    #expect(message.contains(file), "\(message)")
    if file == "model.safetensors" { #expect(message.contains("3.3 GiB"), "\(message)") }
  }
}
