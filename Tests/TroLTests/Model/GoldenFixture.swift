import Foundation
import Tensor
import Testing

@testable import TroL

/// One golden fixture directory (`../shared/fixtures/trol-tiny/<family>`): the model files and the
/// reference tensors written by the official PyTorch code.
final class GoldenFixture: @unchecked Sendable {
  let directory: URL
  let modelDirectory: URL
  let tensors: TestSafeTensors
  let expected: [String: Any]

  static func root() -> URL {
    if let path = ProcessInfo.processInfo.environment["TROLLEY_FIXTURES"] {
      return URL(fileURLWithPath: path)
    }
    // Tests/TroLTests/Model/GoldenFixture.swift → repository root → ../shared/fixtures/trol-tiny
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("shared/fixtures/trol-tiny")
  }

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
    let gate = try TestGateReader.read(modelDirectory.appendingPathComponent("trol_gating.pt"))
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

/// Reads g and c from `trol_gating.pt` by its zip central directory: the 2·D-byte storage is g,
/// the 2-byte one is c (bf16).
enum TestGateReader {
  static func read(_ url: URL) throws -> TroLGate {
    let data = [UInt8](try Data(contentsOf: url))
    func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
    func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    var end = data.count - 22
    while end >= 0, u32(end) != 0x0605_4b50 { end -= 1 }
    let entries = u16(end + 10)
    var o = u32(end + 16)
    var storages: [[UInt8]] = []
    for _ in 0..<entries {
      let size = u32(o + 24)
      let nameLength = u16(o + 28)
      let extra = u16(o + 30)
      let comment = u16(o + 32)
      let local = u32(o + 42)
      let name = String(decoding: data[(o + 46)..<(o + 46 + nameLength)], as: UTF8.self)
      if name.contains("/data/") {
        let start = local + 30 + u16(local + 26) + u16(local + 28)
        storages.append(Array(data[start..<(start + size)]))
      }
      o += 46 + nameLength + extra + comment
    }
    let sorted = storages.sorted { $0.count > $1.count }
    func bf16(_ bytes: [UInt8], _ i: Int) -> Float {
      Float(bitPattern: (UInt32(bytes[2 * i]) | UInt32(bytes[2 * i + 1]) << 8) << 16)
    }
    let g = sorted[0]
    return TroLGate(weight: (0..<(g.count / 2)).map { bf16(g, $0) }, bias: bf16(sorted[1], 0))
  }
}
