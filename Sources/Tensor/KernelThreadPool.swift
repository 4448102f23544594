internal import CProcessor
internal import Dispatch
// pthread mutexes and condition variables (Glibc or Darwin, whichever the platform has).
internal import Foundation
internal import Synchronization

/// The threads that run our kernels' parallel regions: persistent, and spinning for a short while
/// after each region before they sleep.
///
/// A decode step is ~170 parallel regions of 0.1-1 ms each (one per matrix product), back to back.
/// With a thread that sleeps between regions (Dispatch's `concurrentPerform`), each region waited
/// for a wake-up: the batch-1 step of TroL-1.8B took 89-101 ms of wall time for 59-70 ms of CPU
/// time per thread on the development VM, whose idle vCPUs halt and take long to wake. Spinning
/// workers pick the next region up within a microsecond. OpenBLAS keeps its own threads the same
/// way, for the same reason.
///
/// One region runs at a time: a caller that finds the pool busy (another engine in the process,
/// or a region started from inside a region) falls back to `concurrentPerform`.
final class KernelThreadPool: @unchecked Sendable {
  static let shared = KernelThreadPool()

  /// How long an idle worker spins before it sleeps: longer than the gaps inside a decode step
  /// (norms, residuals, sampling), short enough not to hold a core from other processes or from
  /// OpenBLAS's threads during a prefill.
  static let spinNanoseconds: UInt64 = 300_000

  private let busy = Atomic<Bool>(false)
  /// Odd while a region is open: bumped when one opens and again when it closes.
  private let generation = Atomic<Int>(0)
  /// Workers inside an open region's task loop: the caller clears `body` only when none are.
  private let active = Atomic<Int>(0)
  private let nextTask = Atomic<Int>(0)
  private let unfinished = Atomic<Int>(0)
  private let sleepers = Atomic<Int>(0)
  /// Set before an OpenBLAS call: spinning workers go to sleep at once instead of holding cores
  /// that OpenBLAS's own threads need. Cleared when the next region opens.
  private let resting = Atomic<Bool>(false)
  private let workerCount = Mutex<Int>(0)
  /// The region's body and task count: written by the caller before it publishes a new
  /// generation (release) and read by workers after they observe it (acquire).
  private nonisolated(unsafe) var body: ((Int) -> Void)?
  private nonisolated(unsafe) var taskCount = 0
  private let sleep = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  private init() {
    pthread_mutex_init(sleep, nil)
    pthread_cond_init(wake, nil)
  }

  /// Runs `body(0) … body(tasks - 1)` on the calling thread and `tasks - 1` workers; returns when
  /// all have finished.
  func run(tasks: Int, _ body: (Int) -> Void) {
    guard tasks > 1 else {
      if tasks == 1 { body(0) }
      return
    }
    guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      DispatchRegion.run(tasks: tasks, body)
      return
    }
    ensureWorkers(tasks - 1)
    resting.store(false, ordering: .relaxed)
    withoutActuallyEscaping(body) { body in
      self.body = body
      taskCount = tasks
      nextTask.store(0, ordering: .relaxed)
      unfinished.store(tasks, ordering: .relaxed)
      generation.add(1, ordering: .sequentiallyConsistent)  // open
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        pthread_mutex_lock(sleep)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(sleep)
      }
      runTasks()
      while unfinished.load(ordering: .acquiring) > 0 { trolley_spin_pause() }
      // Close, then wait for workers that entered before the close (they find no task left);
      // a worker arriving after it sees an even generation and never touches `body`.
      generation.add(1, ordering: .sequentiallyConsistent)
      while active.load(ordering: .sequentiallyConsistent) > 0 { trolley_spin_pause() }
      self.body = nil
    }
    busy.store(false, ordering: .releasing)
  }

  /// Sends spinning workers to sleep: called before handing the cores to OpenBLAS.
  func rest() {
    resting.store(true, ordering: .relaxed)
  }

  /// Claims tasks until none are left.
  private func runTasks() {
    guard let body else { return }
    while true {
      let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
      if task >= taskCount { return }
      body(task)
      unfinished.subtract(1, ordering: .releasing)
    }
  }

  private func ensureWorkers(_ count: Int) {
    workerCount.withLock { current in
      while current < count {
        startWorker()
        current += 1
      }
    }
  }

  private func startWorker() {
    let context = Unmanaged.passRetained(self).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(
      &thread, nil,
      { context in
        let pool = Unmanaged<KernelThreadPool>.fromOpaque(context!).takeRetainedValue()
        pool.workerLoop()
        return nil
      }, context)
    precondition(started == 0, "KernelThreadPool: cannot start a kernel thread (\(started))")
    pthread_detach(thread)
  }

  private func workerLoop() {
    var seen = generation.load(ordering: .acquiring)
    while true {
      seen = waitForRegion(after: seen)
      guard seen & 1 == 1 else { continue }
      active.add(1, ordering: .sequentiallyConsistent)
      if generation.load(ordering: .sequentiallyConsistent) == seen { runTasks() }
      active.subtract(1, ordering: .sequentiallyConsistent)
    }
  }

  /// Spins, then sleeps, until the generation moves past `seen`; returns the new generation.
  private func waitForRegion(after seen: Int) -> Int {
    let deadline = Self.now() &+ Self.spinNanoseconds
    var spins = 0
    while true {
      let current = generation.load(ordering: .acquiring)
      if current != seen { return current }
      trolley_spin_pause()
      spins &+= 1
      if resting.load(ordering: .relaxed) { break }
      if spins & 255 == 0 && Self.now() > deadline { break }
    }
    pthread_mutex_lock(sleep)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    while generation.load(ordering: .sequentiallyConsistent) == seen {
      pthread_cond_wait(wake, sleep)
    }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(sleep)
    return generation.load(ordering: .acquiring)
  }

  private static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }
}

/// A parallel region on Dispatch's threads: the pool's fallback when it is busy.
enum DispatchRegion {
  static func run(tasks: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
      // The kernels' pointers are not Sendable, but sharing them across the region's disjoint
      // tasks is the point of the split.
      nonisolated(unsafe) let body = body
      DispatchQueue.concurrentPerform(iterations: tasks) { body($0) }
    }
  }
}
