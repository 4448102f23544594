import Foundation
import Tensor
import TestFixtures
import Testing
import TrolleyBasics

@testable import TroL

/// One golden fixture directory (`Tests/Fixtures/trol-tiny/<family>`): the model files and the
/// reference tensors written by the official PyTorch code.
final class GoldenFixture: @unchecked Sendable {
  let directory: URL
  let modelDirectory: URL
  let tensors: TestSafeTensors
  let expected: [String: Any]

  static func root() -> URL { TestFixtures.trolTinyURL }

  init(_ family: String) throws {
    directory = Self.root().appendingPathComponent(family)
    modelDirectory = directory.appendingPathComponent("model")
    tensors = try TestSafeTensors(directory.appendingPathComponent("expected/tensors.safetensors"))
    let json = try Data(contentsOf: directory.appendingPathComponent("expected/expected.json"))
    expected = try JSONSerialization.jsonObject(with: json) as! [String: Any]
  }

  /// The model in f32 (the exact reference path) or another weight format.
  func model(format: WeightFormat = .f32) throws -> TroLModel {
    let checkpoint = try TestSafeTensors(modelDirectory.appendingPathComponent("model.safetensors"))
    let gate = try TroLGate.load(path: modelDirectory.appendingPathComponent("trol_gating.pt").path)
    let config = try Data(contentsOf: modelDirectory.appendingPathComponent("config.json"))
    let prompt = expected["prompt"] as! [String: Any]
    return try TroLModel(
      configJSON: config, loader: WeightLoader(lookup: { try checkpoint.raw($0) }, format: format),
      gate: gate,
      imageTokenID: prompt["image_token_id"] as? Int)
  }

  func floats(_ name: String) throws -> [Float] { try tensors.floats(name) }
  func ints(_ name: String) throws -> [Int] { try tensors.ints(name) }
}

/// Largest |a − b| relative to the largest |b|, with the numbers printed for the test log.
func relativeError(_ actual: [Float], _ expected: [Float], _ label: String) -> Float {
  precondition(
    actual.count == expected.count, "\(label): \(actual.count) values vs \(expected.count)")
  let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-30)
  let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
  print("\(label): max |diff| \(worst), max |ref| \(scale), relative \(worst / scale)")
  return worst / scale
}

/// A minimal safetensors reader for the tests' goldens (F32, F16, BF16, I64, U8).
final class TestSafeTensors: @unchecked Sendable {
  struct Entry {
    var dtype: String
    var shape: [Int]
    var range: Range<Int>
  }
  let bytes: UnsafeMutableRawBufferPointer
  let entries: [String: Entry]

  init(_ url: URL) throws {
    let data = try Data(contentsOf: url)
    bytes = .allocate(byteCount: data.count, alignment: 16)
    _ = data.copyBytes(to: bytes.bindMemory(to: UInt8.self))
    let headerLength = Int(bytes.loadUnaligned(as: UInt64.self))
    let header =
      try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength)))
      as! [String: Any]
    var entries: [String: Entry] = [:]
    for (name, value) in header where name != "__metadata__" {
      let info = value as! [String: Any]
      let offsets = info["data_offsets"] as! [Int]
      entries[name] = Entry(
        dtype: info["dtype"] as! String, shape: info["shape"] as! [Int],
        range: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
    }
    self.entries = entries
  }

  deinit { bytes.deallocate() }

  func raw(_ name: String) throws -> RawTensorData {
    guard let entry = entries[name] else { throw TroLError(.missingTensor, "no tensor \(name)") }
    let dtype: StorageDType =
      switch entry.dtype {
      case "F32": .f32
      case "F16": .f16
      case "BF16": .bf16
      default: throw TroLError(.unsupportedDType, "\(name) is \(entry.dtype)")
      }
    return RawTensorData(
      dtype: dtype, shape: entry.shape, bytes: UnsafeRawBufferPointer(rebasing: bytes[entry.range]),
      owner: self)
  }

  func floats(_ name: String) throws -> [Float] { HalfConversion.floats(try raw(name)) }

  func ints(_ name: String) throws -> [Int] {
    guard let entry = entries[name] else { throw TroLError(.missingTensor, "no tensor \(name)") }
    let base = UnsafeRawBufferPointer(rebasing: bytes[entry.range])
    switch entry.dtype {
    case "I64":
      return (0..<(base.count / 8)).map {
        Int(base.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))
      }
    case "U8": return base.map { Int($0) }
    default: throw TroLError(.unsupportedDType, "\(name) is \(entry.dtype)")
    }
  }
}
