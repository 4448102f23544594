import TrolleyBasics

/// Timing for the micro-benchmarks: wall clock, and process CPU time per kernel thread.
///
/// CPU time is reported beside wall time because the development machine is shared: with other
/// processes on the same cores, wall time measures the contention, while CPU time per thread
/// measures what the kernel costs when it runs (it still includes cache and memory-bus sharing).
enum Stopwatch {
  struct Timing {
    /// Best wall-clock seconds of one repetition.
    var wall: Double
    /// Best process CPU seconds of one repetition, divided by the kernel thread count.
    var cpu: Double
  }

  /// The best of as many repetitions of `body` as fit in `minimumSeconds` of wall time (at least
  /// 2, after one untimed warm-up run); wall and CPU minima are taken independently.
  static func best(minimumSeconds: Double, threads: Int, _ body: () -> Void) -> Timing {
    body()
    var best = Timing(wall: .infinity, cpu: .infinity)
    var total = 0.0
    var runs = 0
    while runs < 2 || total < minimumSeconds {
      let wall0 = CPUClock.wall()
      let cpu0 = CPUClock.process()
      body()
      let wall = CPUClock.wall() - wall0
      let cpu = (CPUClock.process() - cpu0) / Double(max(1, threads))
      best.wall = min(best.wall, wall)
      best.cpu = min(best.cpu, cpu)
      total += wall
      runs += 1
    }
    // Clock granularity can make a tiny body read as 0 s; rates must stay finite.
    best.wall = max(best.wall, 1e-9)
    best.cpu = max(best.cpu, 1e-9)
    return best
  }
}
