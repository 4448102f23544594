/// The machine's measured limits: what the kernels are compared against.
public struct MachinePeak: Codable, Sendable {
  /// f32 FMA throughput of a register-only loop (AVX2 8-lane FMAs, independent chains), GFLOPS,
  /// counting a multiply-add as 2 flops; from wall time.
  public var fmaGFLOPS: Double
  /// The same from CPU time per thread (see `Stopwatch`).
  public var fmaGFLOPSCPU: Double
  /// Streaming read bandwidth over a buffer much larger than the last-level cache, in the memory
  /// weights use (`WeightMemory`), GB/s (10^9); from wall time.
  public var readGBPerSecond: Double
  /// The same from CPU time per thread.
  public var readGBPerSecondCPU: Double
  /// Threads used for both measurements (`TensorThreads.count`).
  public var threads: Int

  /// Measures both limits with `TensorThreads.count` threads.
  ///
  /// - Parameters:
  ///   - streamBytes: bytes of the bandwidth test's buffer; at least 4× the last-level cache.
  ///   - minimumSeconds: how long each measurement repeats; the best repetition is reported.
  /// - Returns: the measured peaks.
  public static func measure(streamBytes: Int = 256 << 20, minimumSeconds: Double = 0.5)
    -> MachinePeak
  {
    let threads = TensorThreads.count
    let fma = measureFMA(threads: threads, minimumSeconds: minimumSeconds)
    let read = measureRead(bytes: streamBytes, threads: threads, minimumSeconds: minimumSeconds)
    return MachinePeak(
      fmaGFLOPS: fma.wall, fmaGFLOPSCPU: fma.cpu, readGBPerSecond: read.wall,
      readGBPerSecondCPU: read.cpu, threads: threads)
  }

  /// Ten independent accumulators cover the FMA latency (4 cycles) × 2 ports with room to spare.
  /// (wall, CPU) GFLOPS.
  static func measureFMA(threads: Int, minimumSeconds: Double) -> (wall: Double, cpu: Double) {
    let iterations = 20_000_000
    let seconds = Stopwatch.best(minimumSeconds: minimumSeconds, threads: threads) {
      TensorThreads.parallelRanges(threads, granule: 1, minimumPerThread: 1) { range in
        for _ in range { blackHole(fmaLoop(iterations)) }
      }
    }
    let flops = Double(threads) * Double(iterations) * 10 * 8 * 2
    return (flops / seconds.wall / 1e9, flops / seconds.cpu / 1e9)
  }

  @inline(never)
  static func fmaLoop(_ iterations: Int) -> Float {
    let m = SIMD8<Float>(repeating: 0.999_999)
    let c = SIMD8<Float>(repeating: 1e-7)
    var a0 = SIMD8<Float>(repeating: 1)
    var a1 = a0
    var a2 = a0
    var a3 = a0
    var a4 = a0
    var a5 = a0
    var a6 = a0
    var a7 = a0
    var a8 = a0
    var a9 = a0
    // a = a·m + c converges (to c / (1 − m)), so values stay normal: no overflow, no denormals.
    for _ in 0..<iterations {
      a0 = c.addingProduct(a0, m)
      a1 = c.addingProduct(a1, m)
      a2 = c.addingProduct(a2, m)
      a3 = c.addingProduct(a3, m)
      a4 = c.addingProduct(a4, m)
      a5 = c.addingProduct(a5, m)
      a6 = c.addingProduct(a6, m)
      a7 = c.addingProduct(a7, m)
      a8 = c.addingProduct(a8, m)
      a9 = c.addingProduct(a9, m)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9).sum()
  }

  /// (wall, CPU) GB/s.
  static func measureRead(bytes: Int, threads: Int, minimumSeconds: Double) -> (
    wall: Double, cpu: Double
  ) {
    let count = bytes / 4
    // The same kind of memory the weights live in (huge pages where the kernel allows), so the
    // bound compares like with like: over 4 KiB pages the hardware prefetcher stops at every
    // page boundary and the measured read was lower and noisier.
    let memory = WeightMemory.allocate(byteCount: count * 4)
    defer { WeightMemory.release(memory) }
    let buffer = memory.bindMemory(to: Float.self)
    buffer.initialize(repeating: 1)
    let base = UnsafeRawPointer(buffer.baseAddress!)
    let seconds = Stopwatch.best(minimumSeconds: minimumSeconds, threads: threads) {
      TensorThreads.parallelRanges(count / 32, granule: 1, minimumPerThread: 1 << 16) { range in
        var s0 = SIMD8<Float>()
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        var s3 = SIMD8<Float>()
        for i in range {
          let at = 128 * i
          s0 += base.load(fromByteOffset: at, as: SIMD8<Float>.self)
          s1 += base.load(fromByteOffset: at + 32, as: SIMD8<Float>.self)
          s2 += base.load(fromByteOffset: at + 64, as: SIMD8<Float>.self)
          s3 += base.load(fromByteOffset: at + 96, as: SIMD8<Float>.self)
        }
        blackHole((s0 + s1 + s2 + s3).sum())
      }
    }
    let bytesRead = Double(count / 32 * 128)
    return (bytesRead / seconds.wall / 1e9, bytesRead / seconds.cpu / 1e9)
  }
}

/// Keeps a value alive so the optimizer cannot delete the loop that computed it.
@inline(never)
func blackHole(_ value: Float) {
  if value == 0x1.234p-120 { print("") }
}
