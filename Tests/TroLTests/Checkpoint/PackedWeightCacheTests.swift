import Foundation
import Tensor
import Testing

@testable import TroL

/// The packed 16-bit weights cached beside a checkpoint: written at the first load, mapped at the
/// next, and never trusted when stale, corrupt or foreign (ignored, the weights repacked and the
/// file rewritten). Answers are identical either way.
@Suite struct PackedWeightCacheTests {
  /// A private copy of the internlm2 fixture folder (the cache is written into it).
  static func modelCopy() throws -> String {
    let source = try GoldenFixture("internlm2").modelDirectory
    let target = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-packed-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: source, to: target)
    // Worker tests running at the same time may have written their own cache (and identity)
    // beside the shared fixture: the copy starts without them.
    for name in try FileManager.default.contentsOfDirectory(atPath: target.path)
    where name.hasPrefix(".trolley-") {
      try FileManager.default.removeItem(at: target.appendingPathComponent(name))
    }
    return target.path
  }

  static func load(_ directory: String, key: String) throws -> (
    TroLEngine, PackedWeightCache.Outcome?
  ) {
    var outcome: PackedWeightCache.Outcome?
    let engine = try TroLEngine.load(
      modelDirectory: directory, weights: .f16, packedWeightsKey: key
    ) { outcome = $0 }
    return (engine, outcome)
  }

  static func answer(_ engine: TroLEngine) throws -> [Int] {
    let image = try GoldenFixture("internlm2").directory.appendingPathComponent("image.png").path
    return try engine.answer(
      AnswerRequest(
        image: .file(path: image), question: "What colour is the disc?",
        options: GenerationOptions(maxNewTokens: 6))
    ).tokenIDs
  }

  static func cachePath(_ directory: String) -> String {
    directory + "/" + PackedWeightCache.fileName
  }

  @Test func writtenOnceThenMappedWithTheSameAnswers() throws {
    let directory = try Self.modelCopy()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let reference = try Self.answer(
      TroLEngine.load(modelDirectory: directory, weights: .f16))

    let (first, written) = try Self.load(directory, key: "hash-a")
    guard case .written(let tensors, let reason) = written else {
      Issue.record("first load: \(String(describing: written))")
      return
    }
    #expect(tensors > 0)
    #expect(reason == "no cache file")
    #expect(try Self.answer(first) == reference)
    let attributes = try FileManager.default.attributesOfItem(atPath: Self.cachePath(directory))
    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
    // No temporary file is left behind.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
      $0.contains(".tmp-")
    }
    #expect(leftovers.isEmpty)

    let (second, used) = try Self.load(directory, key: "hash-a")
    #expect(used == .used(tensors: tensors))
    #expect(try Self.answer(second) == reference)
  }

  @Test func aStaleCacheIsIgnoredAndRewritten() throws {
    let directory = try Self.modelCopy()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try Self.load(directory, key: "hash-a")
    let (_, outcome) = try Self.load(directory, key: "hash-b")
    guard case .written(_, let reason) = outcome else {
      Issue.record("stale: \(String(describing: outcome))")
      return
    }
    #expect(reason.hasPrefix("stale"))
    let (_, again) = try Self.load(directory, key: "hash-b")
    guard case .used = again else {
      Issue.record("after rewrite: \(String(describing: again))")
      return
    }
  }

  /// Flips one byte at `offset` from the end (or the start) of the file.
  static func corrupt(_ path: String, at offset: Int) throws {
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let index = offset >= 0 ? offset : bytes.count + offset
    bytes[index] ^= 0x5A
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    chmod(path, 0o644)
  }

  @Test(arguments: [
    (12, "corrupt header"),  // inside the header's JSON
    (-3, "do not match their checksum"),  // the last tensor's payload
  ])
  func aCorruptCacheIsIgnoredAndRewritten(offset: Int, expected: String) throws {
    let directory = try Self.modelCopy()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let reference = try Self.answer(Self.load(directory, key: "hash-a").0)
    try Self.corrupt(Self.cachePath(directory), at: offset)
    let (engine, outcome) = try Self.load(directory, key: "hash-a")
    guard case .written(_, let reason) = outcome else {
      Issue.record("corrupt: \(String(describing: outcome))")
      return
    }
    #expect(reason.contains(expected), "\(reason)")
    #expect(try Self.answer(engine) == reference)
    let (_, again) = try Self.load(directory, key: "hash-a")
    guard case .used = again else {
      Issue.record("after rewrite: \(String(describing: again))")
      return
    }
  }

  @Test func aTruncatedOrForeignFileIsNotUsed() throws {
    let directory = try Self.modelCopy()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try Self.load(directory, key: "hash-a")
    let path = Self.cachePath(directory)
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber
    truncate(path, off_t(size.intValue - 4096))
    #expect(throws: PackedWeightCache.CacheError.self) {
      try PackedWeightCache.open(path, contentHash: "hash-a")
    }
    _ = try Self.load(directory, key: "hash-a")  // rewritten whole
    chmod(path, 0o666)
    let error = #expect(throws: PackedWeightCache.CacheError.self) {
      try PackedWeightCache.open(path, contentHash: "hash-a")
    }
    #expect(error?.message == "writable by other users")
  }
}
