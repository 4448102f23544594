internal import COpenBLAS
// getenv, sysconf and fopen (Glibc or Darwin, whichever the platform has).
internal import Foundation
internal import Synchronization

/// How many threads the engine's kernels use: OpenBLAS's own pool and our row-split SIMD kernels.
///
/// Both use the same count and never run at the same time (our kernels call OpenBLAS only from the
/// calling thread, outside any parallel region), so one engine never oversubscribes the machine.
/// Several engines in one process (or several worker processes) share the cores: give each
/// `cores / engines` threads.
///
/// The default is `TROLLEY_THREADS` if set, else the number of physical cores (`physicalCores`),
/// not logical CPUs: SMT siblings share one core's FMA units and load ports, so compute-bound
/// products (prefill, decode batches) gain nothing from a second hardware thread. A guest VM may
/// not see its host's SMT (the 2-vCPU development machine reports 2 cores, no SMT), in which case
/// set `TROLLEY_THREADS`. See docs/benchmarks.md, "Kernels", for the 1- and 2-thread figures.
/// The default is applied to OpenBLAS before the first weight is built, so OpenBLAS never starts
/// with its own default of one thread per logical CPU.
public enum TensorThreads {
  private static let state: Mutex<Int> = {
    let n = environmentCount ?? physicalCores
    openblas_set_num_threads(Int32(n))
    return Mutex(n)
  }()

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
  public static var blasCount: Int {
    ensureConfigured()
    return Int(openblas_get_num_threads())
  }

  /// Applies the default to OpenBLAS if nothing has yet; weight constructors call this so that
  /// every BLAS call (ours and the ops') runs with the configured count.
  static func ensureConfigured() { _ = count }

  /// `TROLLEY_THREADS` from the environment, when it holds a positive integer: lets operators
  /// running several workers on one machine split the cores without code changes.
  static var environmentCount: Int? {
    guard let text = getenv("TROLLEY_THREADS"), let n = Int(String(cString: text)), n > 0 else {
      return nil
    }
    return n
  }

  /// Physical cores available to this process: logical CPUs online, with SMT siblings (CPUs that
  /// list the same `thread_siblings_list` in sysfs) counted once. Falls back to the logical count
  /// where the topology cannot be read.
  public static let physicalCores: Int = {
    let logical = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #if os(Linux)
      var siblingSets = Set<String>()
      for cpu in 0..<logical {
        let path = "/sys/devices/system/cpu/cpu\(cpu)/topology/thread_siblings_list"
        guard let file = fopen(path, "r") else { return logical }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return logical }
        let text = String(
          decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        siblingSets.insert(text.trimmingSuffixNewline())
      }
      return max(1, siblingSets.count)
    #else
      return logical
    #endif
  }()

  /// Frees the cores for OpenBLAS: our idle kernel threads stop spinning. Call before a BLAS
  /// call that runs on several threads (sgemm), outside any parallel region.
  @inline(__always)
  public static func yieldToBLAS() {
    KernelThreadPool.shared.rest()
  }

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
    // The ranges are disjoint, so each task writes its own part of the output.
    KernelThreadPool.shared.run(tasks: tasks) { t in
      let start = t * perThread
      body(start..<min(total, start + perThread))
    }
  }
}

extension String {
  fileprivate func trimmingSuffixNewline() -> String {
    var text = self
    while let last = text.last, last == "\n" || last == " " { text.removeLast() }
    return text
  }
}
