/// SHA-256 (FIPS 180-4) of a byte buffer, for item identity (`dataset_item.sha256`) and the
/// shard statistics. Compiled with optimisation because ingest hashes every image's bytes.
/// (TrolleyCLIKit has its own streaming one for job keys; Curation must not import the CLI kit.)
public enum SHA256Digest {
  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]

  /// The 32-byte digest of `bytes`.
  public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    var h: [UInt32] = [
      0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
      0x5be0_cd19,
    ]
    var w = [UInt32](repeating: 0, count: 64)
    let count = bytes.count
    let fullBlocks = count / 64
    // The tail: remaining bytes, 0x80, zeros, then the bit length, in one or two blocks.
    var tail = [UInt8](repeating: 0, count: (count % 64) < 56 ? 64 : 128)
    for i in 0..<(count % 64) { tail[i] = bytes[fullBlocks * 64 + i] }
    tail[count % 64] = 0x80
    let bitLength = UInt64(count) &* 8
    for i in 0..<8 {
      tail[tail.count - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))
    }

    // One block from `p` (64 bytes); the state and schedule live in fixed buffers so the hot
    // loop neither allocates nor checks uniqueness.
    var hs = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
    w.withUnsafeMutableBufferPointer { w in
      k.withUnsafeBufferPointer { k in
        func compress(_ p: UnsafePointer<UInt8>) {
          for t in 0..<16 {
            w[t] =
              UInt32(p[4 * t]) << 24 | UInt32(p[4 * t + 1]) << 16 | UInt32(p[4 * t + 2]) << 8
              | UInt32(p[4 * t + 3])
          }
          for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
          }
          var (a, b, c, d, e, f, g, hh) = hs
          for t in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            hh = g
            g = f
            f = e
            e = d &+ t1
            d = c
            c = b
            b = a
            a = t1 &+ t2
          }
          hs = (
            hs.0 &+ a, hs.1 &+ b, hs.2 &+ c, hs.3 &+ d, hs.4 &+ e, hs.5 &+ f, hs.6 &+ g,
            hs.7 &+ hh
          )
        }
        if let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) {
          for block in 0..<fullBlocks { compress(base + block * 64) }
        }
        tail.withUnsafeBufferPointer { t in
          guard let base = t.baseAddress else { return }
          for block in 0..<(t.count / 64) { compress(base + block * 64) }
        }
      }
    }
    h = [hs.0, hs.1, hs.2, hs.3, hs.4, hs.5, hs.6, hs.7]
    var out = [UInt8](repeating: 0, count: 32)
    for i in 0..<8 {
      out[4 * i] = UInt8(truncatingIfNeeded: h[i] >> 24)
      out[4 * i + 1] = UInt8(truncatingIfNeeded: h[i] >> 16)
      out[4 * i + 2] = UInt8(truncatingIfNeeded: h[i] >> 8)
      out[4 * i + 3] = UInt8(truncatingIfNeeded: h[i])
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

  @inline(__always)
  private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
