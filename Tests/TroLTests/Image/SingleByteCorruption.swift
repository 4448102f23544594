import Testing
import TroL

extension ImageDecoder {
  /// Decodes `original` once per byte with that byte flipped (xor 0x5A): each result must be a
  /// consistent image or a `TroLError`, never a crash or another error (recorded as an issue
  /// naming `label` and the byte). Returns how many of the corrupted files were rejected.
  func rejectedSingleByteCorruptions(of original: [UInt8], label: String) -> Int {
    var rejected = 0
    for position in 0..<original.count {
      var bytes = original
      bytes[position] ^= 0x5A
      do {
        let image = try decode(bytes)
        #expect(image.pixels.count == image.width * image.height * 3)
      } catch is TroLError {
        rejected += 1
      } catch {
        Issue.record("\(label) byte \(position): unexpected error \(error)")
      }
    }
    return rejected
  }
}
