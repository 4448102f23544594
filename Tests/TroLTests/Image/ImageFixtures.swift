import Foundation
import TestFixtures

/// The golden fixtures (`TestFixtures`: the repository's copy, or `$TROLLEY_FIXTURES`) and a
/// minimal safetensors reader for the image goldens (uint8 and f32).
enum ImageFixtures {
  static let families = ["internlm2", "phi3"]

  static var root: URL { TestFixtures.trolTinyURL }

  static func file(_ family: String, _ relativePath: String) -> URL {
    root.appendingPathComponent(family).appendingPathComponent(relativePath)
  }

  static func json(_ family: String, _ relativePath: String) throws -> [String: Any] {
    let data = try Data(contentsOf: file(family, relativePath))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw GoldenTensor.FormatError(description: "\(relativePath) is not a JSON object")
    }
    return object
  }

  static func tensors(_ family: String, _ relativePath: String) throws -> [String: GoldenTensor] {
    try GoldenTensor.readAll(from: file(family, relativePath))
  }
}

/// One tensor of a safetensors file, as raw little-endian bytes.
struct GoldenTensor {
  var dtype: String
  var shape: [Int]
  var bytes: [UInt8]

  var uint8: [UInt8] {
    precondition(dtype == "U8", "tensor is \(dtype), not U8")
    return bytes
  }

  var float32: [Float] {
    precondition(dtype == "F32", "tensor is \(dtype), not F32")
    return stride(from: 0, to: bytes.count, by: 4).map { i in
      Float(
        bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
          | UInt32(bytes[i + 3]) << 24)
    }
  }

  struct FormatError: Error, CustomStringConvertible {
    var description: String
  }

  static func readAll(from url: URL) throws -> [String: GoldenTensor] {
    let file = [UInt8](try Data(contentsOf: url))
    guard file.count >= 8 else { throw FormatError(description: "\(url.path): too short") }
    let headerLength = (0..<8).reduce(0) { $0 | Int(file[$1]) << (8 * $1) }
    guard headerLength <= file.count - 8,
      let header = try JSONSerialization.jsonObject(with: Data(file[8..<8 + headerLength]))
        as? [String: Any]
    else { throw FormatError(description: "\(url.path): bad header") }
    let base = 8 + headerLength
    var result: [String: GoldenTensor] = [:]
    for (name, value) in header where name != "__metadata__" {
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
        offsets.count == 2, offsets[0] <= offsets[1], base + offsets[1] <= file.count
      else { throw FormatError(description: "\(url.path): bad entry \(name)") }
      result[name] = GoldenTensor(
        dtype: dtype, shape: shape, bytes: Array(file[base + offsets[0]..<base + offsets[1]]))
    }
    return result
  }
}
