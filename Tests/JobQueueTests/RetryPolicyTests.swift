import JobQueue
import Testing

struct RetryPolicyTests {
  @Test func doublesUntilTheCap() {
    let policy = RetryPolicy(base: .seconds(1), maximum: .seconds(10), jitter: 0)
    let delays = (1...6).map { policy.delay(afterError: $0, random: 0.5) }
    #expect(
      delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
  }

  @Test func jitterShortensWithinItsFraction() {
    let policy = RetryPolicy(base: .seconds(4), maximum: .seconds(100), jitter: 0.25)
    #expect(policy.delay(afterError: 1, random: 0) == .seconds(4))
    #expect(policy.delay(afterError: 1, random: 1) == .seconds(3))
    for _ in 0..<100 {
      let delay = policy.delay(afterError: 1)
      #expect(delay >= .seconds(3) && delay <= .seconds(4))
    }
  }

  @Test func hugeErrorCountsDoNotOverflow() {
    let policy = RetryPolicy(base: .milliseconds(10), maximum: .seconds(60), jitter: 0)
    #expect(policy.delay(afterError: 1_000_000, random: 0) == .seconds(60))
    #expect(policy.delay(afterError: 0, random: 0) == .milliseconds(10))
  }
}
