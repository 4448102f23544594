import Testing

@testable import Tensor

@Suite struct ThreadScratchTests {
  /// A thread's buffer is reused for requests it can hold and replaced by a larger one when it
  /// cannot; every float of the returned capacity is writable.
  @Test func reusesTheBufferAndGrowsOnDemand() {
    let first = ThreadScratch.floats(100)
    first.update(repeating: 1, count: 100)
    #expect(ThreadScratch.floats(50) == first)
    #expect(ThreadScratch.floats(1024) == first)
    let larger = ThreadScratch.floats(100_000)
    larger.update(repeating: 2, count: 100_000)
    #expect(ThreadScratch.floats(100_000) == larger)
    #expect(Int(bitPattern: larger) % 64 == 0)
  }
}
