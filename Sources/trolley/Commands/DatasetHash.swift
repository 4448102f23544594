import ArgumentParser
import Curation
import Foundation
import TroL
import TrolleyBasics

/// `trolley dataset hash FILE...`: the four imagehash-compatible hashes; no database needed.
struct DatasetHash: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    abstract: "Print aHash, pHash, dHash and wHash (imagehash 4.3.2 hex) of image files.",
    discussion: """
      Bit-identical with imagehash 4.3.2 (with Pillow 12) on PNG input; identical pixels give
      identical hashes (pixels_sha256 in --json tells JPEG decoder differences apart).

      Examples:
        trolley dataset hash photo.png
        trolley dataset hash *.jpg --json
      """)

  @Argument(help: "Image files (JPEG or PNG).")
  var files: [String]

  @Flag(help: "Print one JSON object per file.")
  var json = false

  struct Line: Encodable {
    var file: String
    var format: String
    var width: Int
    var height: Int
    var bytes: Int
    var sha256: String
    var pixelsSHA256: String?
    var ahash: String
    var phash: String
    var dhash: String
    var whash: String

    enum CodingKeys: String, SnakeCaseCodingKey {
      case file, format, width, height, bytes, sha256, pixelsSHA256, ahash, phash, dhash, whash
    }
  }

  func run() throws {
    var failed = false
    for file in files {
      let fingerprint: ImageFingerprint
      do {
        guard let data = FileManager.default.contents(atPath: file) else {
          throw ValidationError("cannot read \(file): no such file or no permission")
        }
        fingerprint = try ImageFingerprint(data: [UInt8](data), pixelsDigest: true)
      } catch let error as TroLError {
        printError("\(file): \(error.message)")
        failed = true
        continue
      }
      let h = fingerprint.hashes
      if json {
        try printEncodedJSON(
          Line(
            file: file, format: fingerprint.format, width: fingerprint.width,
            height: fingerprint.height, bytes: fingerprint.bytes, sha256: fingerprint.sha256,
            pixelsSHA256: fingerprint.pixelsSHA256, ahash: ImageHashes.hex(h.ahash),
            phash: ImageHashes.hex(h.phash), dhash: ImageHashes.hex(h.dhash),
            whash: ImageHashes.hex(h.whash)))
      } else {
        print(
          "\(ImageHashes.hex(h.ahash)) \(ImageHashes.hex(h.phash)) \(ImageHashes.hex(h.dhash)) \(ImageHashes.hex(h.whash))  \(file)"
        )
      }
    }
    if failed { throw ExitCode(1) }
  }
}
