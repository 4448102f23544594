import Foundation
import Tensor

extension BenchEngine {
  /// Fixed-format text for `trolley bench engine --kernels`.
  enum KernelTable {
    static let measurementHeader =
      "shape         out     in   rows  format  ms/product   GFLOPS  weight GB/s"

    static func line(_ m: KernelMeasurement) -> String {
      padded(m.shape, 8)
        + String(format: " %6d %6d %6d  ", m.outFeatures, m.inFeatures, m.rows)
        + padded(m.format.rawValue, 6)
        + String(format: " %11.3f %8.1f %12.2f", m.seconds * 1e3, m.gflops, m.weightGBPerSecond)
    }

    static func padded(_ text: String, _ width: Int) -> String {
      text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func summary(_ report: KernelReport) -> String {
      var lines: [String] = []
      lines.append(
        String(
          format: "peak: FMA loop %.1f GFLOPS, streaming read %.2f GB/s (%d threads)",
          report.peak.fmaGFLOPS, report.peak.readGBPerSecond, report.peak.threads))
      lines.append("decode (whole language model, per step):")
      lines.append(
        "  format  batch  step ms  tokens/s  weight MB/step  bound tokens/s  of bandwidth")
      for d in report.decode {
        lines.append(
          "  " + padded(d.format.rawValue, 6)
            + String(
              format: " %6d %8.1f %9.2f %15.0f %15.2f %12.0f%%", d.batch, d.stepSeconds * 1e3,
              d.tokensPerSecond, Double(d.weightBytes) / 1e6, d.bandwidthBoundTokensPerSecond,
              d.fractionOfBandwidth * 100))
      }
      var batch1: [KernelFormat: Double] = [:]
      for d in report.decode where d.batch == 1 { batch1[d.format] = d.tokensPerSecond }
      for d in report.decode where d.batch > 1 {
        if let single = batch1[d.format] {
          lines.append(
            "  \(d.format.rawValue): batch \(d.batch) decodes "
              + String(format: "%.2fx", d.tokensPerSecond / single) + " the tokens/s of batch 1")
        }
      }
      if !report.prefill.isEmpty {
        lines.append("prefill (layer products, weighted by count per layer):")
        for p in report.prefill {
          lines.append(
            "  " + padded(p.format.rawValue, 6)
              + String(
                format: " rows %d: %.1f GFLOPS, %.0f%% of f32 sgemm, %.0f%% of the FMA peak",
                p.rows,
                p.gflops, p.fractionOfSgemm * 100, p.fractionOfFMAPeak * 100))
        }
      }
      return lines.joined(separator: "\n")
    }
  }
}
