import CCrypto

/// SHA-256 (FIPS 180-4) of a byte buffer, for item identity (`dataset_item.sha256`) and the
/// shard statistics: libcrypto's, which uses the CPU's SHA extensions where it has them (ingest
/// hashes every file; a portable implementation took a tenth of ingest's time at 640x480).
/// (TrolleyCLIKit and Digest keep their own streaming one for job keys and weights.)
public enum SHA256Digest {
  /// The 32-byte digest of `bytes`.
  public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    out.withUnsafeMutableBufferPointer { out in
      _ = SHA256(
        bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, out.baseAddress)
    }
    return out
  }

  /// The digest of a byte array.
  public static func digest(_ bytes: [UInt8]) -> [UInt8] {
    bytes.withUnsafeBytes { digest($0) }
  }

  /// Lowercase hex of the digest.
  public static func hex(_ bytes: [UInt8]) -> String {
    toHex(digest(bytes))
  }

  /// Lowercase hex of any bytes.
  public static func toHex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

}
