import Testing

@testable import Tensor

@Suite struct KernelBenchmarkTests {
  /// A tiny run covers every format and regime and yields a complete, consistent report (no
  /// assertion on speed: only on what was measured and how the summaries relate).
  @Test func tinyRunProducesCompleteReport() {
    var configuration = KernelBenchmark.Configuration()
    configuration.shapes = [
      KernelShape(name: "a", outFeatures: 16, inFeatures: 64, countPerToken: 2),
      KernelShape(
        name: "head", outFeatures: 40, inFeatures: 64, countPerToken: 1, inPrefill: false),
    ]
    configuration.decodeRows = [1, 3]
    configuration.prefillRows = 20
    configuration.streamBytes = 64 << 10
    configuration.peakStreamBytes = 1 << 20
    configuration.minimumSeconds = 0.001
    var seen = 0
    let report = KernelBenchmark.run(configuration) { _ in seen += 1 }
    let formats = KernelFormat.allCases.count
    // Per format: 2 shapes × 2 decode sizes, plus prefill for the one prefill shape.
    #expect(report.measurements.count == formats * 5)
    #expect(seen == report.measurements.count)
    #expect(report.decode.count == formats * 2)
    #expect(report.prefill.count == formats)
    for m in report.measurements {
      #expect(m.seconds > 0 && m.cpuSeconds >= 0 && m.gflops.isFinite)
    }
    let f16 = report.decode.first { $0.format == .f16 && $0.batch == 1 }
    #expect(f16?.weightBytes == (2 * 16 * 64 + 40 * 64) * 2)
    let f32Prefill = report.prefill.first { $0.format == .f32 }
    #expect(abs((f32Prefill?.fractionOfSgemm ?? 0) - 1) < 1e-9)
    #expect(report.peak.fmaGFLOPS > 0 && report.peak.readGBPerSecond > 0)
  }
}
