import Tensor
import Testing

/// Serialized: these tests change the process-wide thread count (no other suite does).
@Suite(.serialized) struct TensorThreadsTests {
  @Test func physicalCoresIsPositive() {
    #expect(TensorThreads.physicalCores >= 1)
  }

  /// configure(count:) sets our count and OpenBLAS's together; values below 1 mean 1.
  @Test func configureSetsOpenBLASToo() {
    let original = TensorThreads.count
    defer { TensorThreads.configure(count: original) }
    TensorThreads.configure(count: 0)
    #expect(TensorThreads.count == 1)
    #expect(TensorThreads.blasCount == 1)
    TensorThreads.configure(count: 2)
    #expect(TensorThreads.count == 2)
    #expect(TensorThreads.blasCount == 2)
  }

  /// Splitting rows across threads gives the same result as one thread, bit for bit.
  @Test func threadedProductEqualsSingleThreaded() throws {
    let (outF, inF) = (260, 96)
    let w = try makeLinearWeight(
      TestTensorBytes.tensor(
        WeightCheck.randomValues(outF * inF, seed: 5), shape: [outF, inF], dtype: .bf16),
      format: .f16)
    // Other suites may run while the count changes; their results do not depend on it (this
    // test is the proof), only their speed does.
    let original = TensorThreads.count
    defer { TensorThreads.configure(count: original) }
    for rows in [1, 4] {
      let x = WeightCheck.randomValues(rows * inF, seed: 6)
      TensorThreads.configure(count: 1)
      let single = WeightCheck.product(w, x, rows: rows)
      TensorThreads.configure(count: 2)
      let threaded = WeightCheck.product(w, x, rows: rows)
      #expect(single == threaded)
    }
  }
}
