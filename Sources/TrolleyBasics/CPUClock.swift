#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// CPU time, for measurements on a shared machine: wall time there mostly measures other people's
/// work, CPU time does not.
public enum CPUClock {
  /// CPU time the calling thread has used, in seconds.
  public static func thread() -> Double { read(CLOCK_THREAD_CPUTIME_ID) }

  /// CPU time (user + system, every thread) this process has used, in seconds.
  public static func process() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }

  /// Monotonic wall time in seconds, from an arbitrary origin (for differences only).
  public static func wall() -> Double { read(CLOCK_MONOTONIC) }

  private static func read(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
  }
}
