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
}
