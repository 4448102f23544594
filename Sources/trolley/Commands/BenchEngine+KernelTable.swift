import Foundation
import Tensor

extension BenchEngine {
  /// Fixed-format text for `trolley bench engine --kernels`. Every rate is shown from wall time
  /// and from CPU time per thread ("cpu"), which is what the kernel costs when it gets the core.
  enum KernelTable {
    static let measurementHeader =
      "shape       out     in   rows  format  wall ms   cpu ms  GFLOPS  cpu GFLOPS  GB/s  cpu GB/s"

    static func line(_ m: KernelMeasurement) -> String {
      padded(m.shape, 6)
        + String(format: " %6d %6d %6d  ", m.outFeatures, m.inFeatures, m.rows)
        + padded(m.format.rawValue, 6)
        + String(
          format: " %8.3f %8.3f %7.1f %11.1f %5.1f %9.1f", m.seconds * 1e3, m.cpuSeconds * 1e3,
          m.gflops, m.gflopsCPU, m.weightGBPerSecond, m.weightGBPerSecondCPU)
    }

    static func padded(_ text: String, _ width: Int) -> String {
      text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func summary(_ report: KernelReport) -> String {
      let peak = report.peak
      var lines: [String] = []
      lines.append(
        String(
          format:
            "peak (%d threads): FMA loop %.1f GFLOPS (cpu %.1f), streaming read %.2f GB/s (cpu %.2f)",
          peak.threads, peak.fmaGFLOPS, peak.fmaGFLOPSCPU, peak.readGBPerSecond,
          peak.readGBPerSecondCPU))
      lines.append(
        "decode (whole language model, per step; bound = weight bytes at the read bandwidth):")
      lines.append(
        "  format  batch  MB/step  step ms  tokens/s  bound  of bound | cpu: step ms  tokens/s  bound  of bound"
      )
      for d in report.decode {
        lines.append(
          "  " + padded(d.format.rawValue, 6)
            + String(
              format: " %6d %8.0f %8.1f %9.2f %6.2f %8.0f%% | %13.1f %9.2f %6.2f %8.0f%%", d.batch,
              Double(d.weightBytes) / 1e6, d.stepSeconds * 1e3, d.tokensPerSecond,
              d.bandwidthBoundTokensPerSecond, d.fractionOfBandwidth * 100, d.stepSecondsCPU * 1e3,
              d.tokensPerSecondCPU, d.bandwidthBoundTokensPerSecondCPU,
              d.fractionOfBandwidthCPU * 100))
      }
      var batch1: [KernelFormat: DecodeEstimate] = [:]
      for d in report.decode where d.batch == 1 { batch1[d.format] = d }
      for d in report.decode where d.batch > 1 {
        if let single = batch1[d.format] {
          lines.append(
            "  \(d.format.rawValue): batch \(d.batch) decodes "
              + String(
                format: "%.2fx (cpu %.2fx)", d.tokensPerSecond / single.tokensPerSecond,
                d.tokensPerSecondCPU / single.tokensPerSecondCPU) + " the tokens/s of batch 1")
        }
      }
      if !report.prefill.isEmpty {
        lines.append("prefill (layer products, weighted by count per layer):")
        for p in report.prefill {
          lines.append(
            "  " + padded(p.format.rawValue, 6)
              + String(
                format:
                  " rows %d: %.1f GFLOPS = %.0f%% of f32 sgemm, %.0f%% of FMA peak | cpu: %.1f GFLOPS = %.0f%% of sgemm, %.0f%% of peak",
                p.rows, p.gflops, p.fractionOfSgemm * 100, p.fractionOfFMAPeak * 100, p.gflopsCPU,
                p.fractionOfSgemmCPU * 100, p.fractionOfFMAPeakCPU * 100))
        }
      }
      return lines.joined(separator: "\n")
    }
  }
}
