/// Unaligned 8-wide loads and stores: the vector width the kernels in this folder are written for
/// (two SSE registers or one AVX register; the compiler splits or fuses as the target allows).
@usableFromInline typealias Vector8 = SIMD8<Float>

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vector8 {
  UnsafeRawPointer(p).loadUnaligned(as: Vector8.self)
}

@inlinable @inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> Vector8 {
  UnsafeRawPointer(p).loadUnaligned(as: Vector8.self)
}

@inlinable @inline(__always)
func store8(_ v: Vector8, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector8.self)
}
