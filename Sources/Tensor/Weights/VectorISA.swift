internal import CProcessor

#if canImport(Glibc)
  internal import Glibc
#elseif canImport(Darwin)
  internal import Darwin
#endif

/// The vector instruction set a kernel runs on.
enum VectorISA: Sendable {
  case avx2
  case avx512

  /// The widest this CPU and OS support, unless `TROLLEY_KERNELS=avx2` asks for the narrower one
  /// (to compare them, or to rule the wide kernels out when chasing a problem).
  static let best: VectorISA = {
    if let forced = getenv("TROLLEY_KERNELS"), String(cString: forced) == "avx2" { return .avx2 }
    return trolley_cpu_has_avx512f() != 0 ? .avx512 : .avx2
  }()

  /// For kernels whose AVX-512 twin is not faster on every CPU with AVX-512: the q8/q4 batch-1
  /// rows (`QuantizedRowKernels512`). On Zen 4, which splits 512-bit operations into two 256-bit
  /// halves, they do the same vector-pipe work per weight as AVX2 and measured no faster
  /// (2048-wide rows the same, 8192-wide ones ~25 % slower, the whole decode step 2-9 % slower;
  /// docs/benchmarks.md). So AVX-512 only when `TROLLEY_KERNELS=avx512` asks for it and the CPU
  /// has it, e.g. to try it on a CPU with full-width AVX-512 units; the twins stay tested.
  static let optIn: VectorISA = {
    if let forced = getenv("TROLLEY_KERNELS"), String(cString: forced) == "avx512",
      trolley_cpu_has_avx512f() != 0
    {
      return .avx512
    }
    return .avx2
  }()
}
