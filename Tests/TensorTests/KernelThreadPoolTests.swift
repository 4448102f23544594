import Dispatch
import Synchronization
import Testing

@testable import Tensor

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct KernelThreadPoolTests {
  /// Each task of each region runs exactly once, over many back-to-back regions of varying size
  /// (the decode pattern: workers catch regions while spinning, or after sleeping).
  @Test func everyTaskRunsOnceInEveryRegion() {
    let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
    defer { counts.deallocate() }
    for region in 0..<2_000 {
      let tasks = 2 + region % 7
      counts.initialize(repeating: 0)
      KernelThreadPool.shared.run(tasks: tasks) { t in counts[t] += 1 }
      #expect(Array(counts[0..<tasks]) == Array(repeating: 1, count: tasks), "region \(region)")
      // Now and then let the workers give up spinning and sleep, so that waking is tested too.
      if region % 500 == 499 { usleep(2_000) }
    }
  }

  /// Callers on several threads at once, and regions started inside a region, all complete with
  /// every task run once (the pool serves one and the others fall back to Dispatch).
  @Test func concurrentAndNestedRegionsComplete() {
    let total = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
      for _ in 0..<200 {
        KernelThreadPool.shared.run(tasks: 3) { _ in
          KernelThreadPool.shared.run(tasks: 2) { _ in total.add(1, ordering: .relaxed) }
        }
      }
    }
    #expect(total.load(ordering: .relaxed) == 4 * 200 * 3 * 2)
  }
}
