internal import COpenBLAS
internal import Foundation
internal import Synchronization
internal import Tensor

/// The floating-point work of the products training ran (2·m·n·k per product), for
/// `trolley bench train`'s achieved GFLOPS. One relaxed atomic add per product.
public enum ProductCounter {
  static let flops = Atomic<Int>(0)
  /// Flops counted since the last `reset()`.
  public static var total: Int { flops.load(ordering: .relaxed) }
  public static func reset() { flops.store(0, ordering: .relaxed) }
  @inline(__always) static func add(_ m: Int, _ n: Int, _ k: Int) {
    flops.wrappingAdd(2 * m * n * k, ordering: .relaxed)
  }
}

/// The scalar type of a training run: `Float` for real training, `Double` for the finite-difference
/// checks (the same code, specialized). Products go to OpenBLAS (`sgemm` / `dgemm`).
public protocol Real: BinaryFloatingPoint, Sendable {
  /// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C, row-major.
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self, _ a: UnsafePointer<Self>,
    lda: Int, _ b: UnsafePointer<Self>, ldb: Int, beta: Self, _ c: UnsafeMutablePointer<Self>,
    ldc: Int)
  static func expo(_ x: Self) -> Self
  static func logarithm(_ x: Self) -> Self
  static func tanhyp(_ x: Self) -> Self
  static func errorFunction(_ x: Self) -> Self
  static func cosine(_ x: Self) -> Self
  static func sine(_ x: Self) -> Self
}

extension Float: Real {
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: UnsafePointer<Float>,
    lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>,
    ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    ProductCounter.add(m, n, k)
    // The engine's kernel threads spin between products; they must rest while OpenBLAS runs.
    TensorThreads.yieldToBLAS()
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func expo(_ x: Float) -> Float { Foundation.exp(x) }
  public static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
  public static func tanhyp(_ x: Float) -> Float { Foundation.tanh(x) }
  public static func errorFunction(_ x: Float) -> Float { Foundation.erf(x) }
  public static func cosine(_ x: Float) -> Float { Foundation.cos(x) }
  public static func sine(_ x: Float) -> Float { Foundation.sin(x) }
}

extension Double: Real {
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, _ a: UnsafePointer<Double>,
    lda: Int, _ b: UnsafePointer<Double>, ldb: Int, beta: Double,
    _ c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    ProductCounter.add(m, n, k)
    TensorThreads.yieldToBLAS()
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func expo(_ x: Double) -> Double { Foundation.exp(x) }
  public static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
  public static func tanhyp(_ x: Double) -> Double { Foundation.tanh(x) }
  public static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
  public static func cosine(_ x: Double) -> Double { Foundation.cos(x) }
  public static func sine(_ x: Double) -> Double { Foundation.sin(x) }
}

/// An owned, zero-initialized buffer of `count` scalars (activations, gradients, optimizer state).
public final class Buffer<T: Real>: @unchecked Sendable {
  public let p: UnsafeMutablePointer<T>
  public let count: Int

  public init(_ count: Int) {
    self.count = count
    p = .allocate(capacity: max(count, 1))
    p.initialize(repeating: 0, count: max(count, 1))
  }

  public convenience init(_ values: [T]) {
    self.init(values.count)
    for i in 0..<values.count { p[i] = values[i] }
  }

  deinit { p.deallocate() }

  public func zero() { p.update(repeating: 0, count: count) }

  public var array: [T] { Array(UnsafeBufferPointer(start: p, count: count)) }
  public var floats: [Float] { (0..<count).map { Float(p[$0]) } }
}

/// Buffers reused across layers and steps, keyed by role: a step allocates only while they grow.
final class Workspace<T: Real> {
  private var buffers: [String: Buffer<T>] = [:]

  /// A buffer of at least `count` scalars for `key` (contents unspecified unless `zeroed`).
  func get(_ key: String, _ count: Int, zeroed: Bool = false) -> UnsafeMutablePointer<T> {
    if let b = buffers[key], b.count >= count {
      if zeroed { b.p.update(repeating: 0, count: count) }
      return b.p
    }
    let b = Buffer<T>(count)
    buffers[key] = b
    return b.p
  }
}
