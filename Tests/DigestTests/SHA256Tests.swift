import Digest
import Testing
import TrolleyBasics

struct SHA256Tests {
  /// Every implementation this CPU can run (the SHA-extension rounds only where the CPU has them).
  static let implementations = SHA256.Implementation.allCases.filter(\.isAvailable)

  /// FIPS 180-4's examples and the NIST long-message vectors.
  static let vectors: [(String, String)] = [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
    (
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ),
  ]

  @Test(arguments: implementations)
  func matchesTheStandardVectors(implementation: SHA256.Implementation) throws {
    for (input, digest) in Self.vectors {
      var hasher = try #require(SHA256(implementation: implementation))
      hasher.update(input)
      #expect(hasher.finalizeHex() == digest, "\(input)")
    }
  }

  @Test(arguments: implementations)
  func hashesAMillionBytesFedInPieces(implementation: SHA256.Implementation) throws {
    var hasher = try #require(SHA256(implementation: implementation))
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    for _ in 0..<1000 { hasher.update(chunk) }
    #expect(
      hasher.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// FIPS 180-4 vectors through the one-piece `[UInt8]` entry point, including lengths around
  /// the padding boundary.
  @Test func hashesByteArraysInOnePiece() {
    #expect(
      SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      SHA256.hex(Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func theDefaultHasherRunsTheFastestImplementation() {
    #expect(SHA256().implementation == .fastest)
    #expect(SHA256.Implementation.fastest.isAvailable)
    #expect(SHA256(implementation: .portable) != nil)
    #expect(
      (SHA256(implementation: .shaExtensions) != nil)
        == SHA256.Implementation.shaExtensions.isAvailable)
  }

  /// The SHA-extension rounds against the portable ones: every length from 0 to 320 bytes (each
  /// padding case, one to five blocks) and a 100 kB message fed in irregular pieces, so that the
  /// multi-block path, the pending-bytes path and their seams all run. Runs only on CPUs with
  /// the extensions (the x86 machines this project targets have them).
  @Test(.enabled(if: SHA256.Implementation.shaExtensions.isAvailable))
  func theSHAExtensionsAgreeWithThePortableRounds() throws {
    var generator = SplitMix64(seed: 0x5EED)
    let message = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    for length in 0...320 {
      let prefix = Array(message[..<length])
      var portable = try #require(SHA256(implementation: .portable))
      var extensions = try #require(SHA256(implementation: .shaExtensions))
      portable.update(prefix)
      extensions.update(prefix)
      #expect(portable.finalizeHex() == extensions.finalizeHex(), "length \(length)")
    }
    var portable = try #require(SHA256(implementation: .portable))
    var extensions = try #require(SHA256(implementation: .shaExtensions))
    var start = 0
    while start < message.count {
      let end = min(message.count, start + Int(generator.next() % 700))
      portable.update(message[start..<end])
      extensions.update(message[start..<end])
      start = end
    }
    let digest = portable.finalizeHex()
    #expect(digest == extensions.finalizeHex())
    #expect(digest != SHA256.hex(Array(message.dropLast())))
  }
}
