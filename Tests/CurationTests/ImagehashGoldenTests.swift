import Curation
import Foundation
import TestFixtures
import Testing
import TroL

/// The four hashes against imagehash 4.3.2 on the generated PNGs in
/// `Tests/Fixtures/curation/hash-goldens.jsonl` (written by `Oracle/make_hash_goldens.py`; the
/// versions of Pillow, SciPy and PyWavelets it used are in `hash-goldens-versions.json`).
@Suite struct ImagehashGoldenTests {
  struct Golden: Decodable {
    var name: String
    var mode: String
    var width: Int
    var height: Int
    var ahash: String
    var phash: String
    var dhash: String
    var whash: String
    var png: String
  }

  static func goldens() throws -> [Golden] {
    let url = TestFixtures.repository.appendingPathComponent(
      "Tests/Fixtures/curation/hash-goldens.jsonl")
    let text = try String(contentsOf: url, encoding: .utf8)
    let decoder = JSONDecoder()
    return try text.split(separator: "\n").map {
      try decoder.decode(Golden.self, from: Data($0.utf8))
    }
  }

  @Test func everyGoldenPNGHashesLikeImagehash() throws {
    let goldens = try Self.goldens()
    #expect(goldens.count >= 2000)
    var modes: Set<String> = []
    var mismatches: [String] = []
    var perKind: [HashKind: Int] = [:]
    for golden in goldens {
      modes.insert(golden.mode)
      guard let data = Data(base64Encoded: golden.png) else {
        Issue.record("\(golden.name): the PNG is not valid base64")
        continue
      }
      let fingerprint = try ImageFingerprint(data: [UInt8](data))
      #expect(fingerprint.width == golden.width && fingerprint.height == golden.height)
      #expect(fingerprint.format == "png")
      let expected: [HashKind: String] = [
        .ahash: golden.ahash, .phash: golden.phash, .dhash: golden.dhash, .whash: golden.whash,
      ]
      for kind in HashKind.allCases {
        let got = ImageHashes.hex(fingerprint.hashes[kind])
        if got != expected[kind] {
          perKind[kind, default: 0] += 1
          if mismatches.count < 40 {
            mismatches.append(
              "\(golden.name) \(kind.rawValue): got \(got), imagehash \(expected[kind] ?? "")")
          }
        }
      }
    }
    #expect(mismatches.isEmpty, "\(perKind) \(mismatches.joined(separator: "\n"))")
    // The generator covers every mode the issue names.
    #expect(modes.isSuperset(of: ["RGB", "RGBA", "L", "P", "I;16"]), "\(modes)")
  }
}
