/// Wall-clock timing for the micro-benchmarks.
enum Stopwatch {
  /// Seconds `body` takes, best of as many repetitions as fit in `minimumSeconds` (at least 2,
  /// after one untimed warm-up run).
  static func best(minimumSeconds: Double, _ body: () -> Void) -> Double {
    body()
    let clock = ContinuousClock()
    var best = Double.infinity
    var total = 0.0
    var runs = 0
    while runs < 2 || total < minimumSeconds {
      let elapsed = clock.measure(body)
      let seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
      best = min(best, seconds)
      total += seconds
      runs += 1
    }
    return best
  }
}
