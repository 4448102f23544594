internal import COpenBLAS
internal import Dispatch
internal import Synchronization

/// How many threads the engine's kernels use: OpenBLAS's own pool and our row-split SIMD kernels.
///
/// Both use the same count and never run at the same time (our kernels call OpenBLAS only from the
/// calling thread, outside any parallel region), so the machine is never oversubscribed by one
/// engine. Several engines in one process (or several worker processes) share the cores: give each
/// `cores / engines` threads.
///
/// The default is 1. Measured on the 2-vCPU (1 physical core, SMT) development machine
/// (`trolley bench engine --kernels`): see docs/benchmarks.md, "Kernels", for the figures that
/// chose it. Call `configure(count:)` once at startup, before any product runs.
public enum TensorThreads {
  private static let state = Mutex<Int>(1)

  /// The number of threads kernels split their work across (at least 1).
  public static var count: Int { state.withLock { $0 } }

  /// Sets the thread count for OpenBLAS and for our kernels.
  ///
  /// - Parameter count: threads to use, at least 1; values below 1 are treated as 1.
  public static func configure(count: Int) {
    let n = max(1, count)
    state.withLock { $0 = n }
    openblas_set_num_threads(Int32(n))
  }

  /// The number of threads OpenBLAS reports it will use.
  public static var blasCount: Int { Int(openblas_get_num_threads()) }

  /// Runs `body` over `0..<total` split into contiguous ranges, one per thread, each range (except
  /// possibly the last) a multiple of `granule`. Runs inline when one thread is configured or the
  /// work is too small to split (`total < minimumPerThread * 2`).
  static func parallelRanges(
    _ total: Int, granule: Int, minimumPerThread: Int, _ body: (Range<Int>) -> Void
  ) {
    let threads = min(count, total / max(1, minimumPerThread))
    if threads <= 1 {
      body(0..<total)
      return
    }
    let granules = (total + granule - 1) / granule
    let perThread = (granules + threads - 1) / threads * granule
    let tasks = (total + perThread - 1) / perThread
    withoutActuallyEscaping(body) { body in
      // The ranges are disjoint, so each task writes its own part of the output; the kernels'
      // pointers are not Sendable, but sharing them this way is the point of the split.
      nonisolated(unsafe) let body = body
      DispatchQueue.concurrentPerform(iterations: tasks) { t in
        let start = t * perThread
        body(start..<min(total, start + perThread))
      }
    }
  }
}
