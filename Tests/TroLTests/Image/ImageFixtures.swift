import Foundation
import TestFixtures
import Testing
import TroL

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

extension ImageFixtures {
  /// Resizes the input of resize golden `name` (`<name>.input` in `expected/ops.safetensors`) to
  /// the size of its `<name>.output` with `resize`, and expects every byte of the output. PIL
  /// goldens are [H, W, 3] (`planar: false`), torch goldens [3, H, W].
  static func expectResizeMatchesGolden(
    _ family: String, _ name: String, planar: Bool,
    resize: (_ image: RGBImage, _ width: Int, _ height: Int) -> RGBImage
  ) throws {
    let tensors = try tensors(family, "expected/ops.safetensors")
    let input = try #require(tensors["\(name).input"])
    let expected = try #require(tensors["\(name).output"])
    let (heightAxis, widthAxis) = planar ? (1, 2) : (0, 1)
    let width = input.shape[widthAxis]
    let height = input.shape[heightAxis]
    let image =
      planar
      ? RGBImage(width: width, height: height, planar: input.uint8)
      : RGBImage(width: width, height: height, pixels: input.uint8)
    let resized = resize(image, expected.shape[widthAxis], expected.shape[heightAxis])
    let bytes = planar ? resized.planar : resized.pixels
    let differing = zip(bytes, expected.uint8).filter { $0 != $1 }.count
    #expect(
      resized.width == expected.shape[widthAxis] && resized.height == expected.shape[heightAxis])
    #expect(differing == 0, "\(differing) of \(expected.bytes.count) bytes differ")
  }

  /// A `width` × `height` image whose every pixel is `rgb`.
  static func constantImage(width: Int, height: Int, _ rgb: [UInt8]) -> RGBImage {
    RGBImage(
      width: width, height: height, pixels: [UInt8]((0..<width * height).flatMap { _ in rgb }))
  }
}
