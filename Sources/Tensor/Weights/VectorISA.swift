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
  static let best: VectorISA =
    onlyAVX2 ? .avx2 : trolley_cpu_has_avx512f() != 0 ? .avx512 : .avx2

  /// Whether `TROLLEY_KERNELS=avx2` rules out every wider kernel: these decode kernels and the
  /// `--compute` kernels (`Int8Kernel.best`, `BF16Kernel.best`). Read once.
  static let onlyAVX2: Bool = {
    guard let forced = getenv("TROLLEY_KERNELS") else { return false }
    return String(cString: forced) == "avx2"
  }()
}
