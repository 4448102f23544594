import Foundation
import Tensor
import TrolleyBasics

/// `trolley bench engine --compute-modes`: prefill products of TroL-1.8B's shapes in each
/// compute mode, in GFLOPS per wall second and per CPU second (the machine is shared: per-CPU
/// figures are the comparable ones), next to the f32 FMA peak measured in the same run.
enum ComputeModeTable {
  /// (name, outputs, inputs): wo/w2-like and w1/w3-like.
  static let shapes = [
    ("2048x2048", 2048, 2048), ("8192x2048", 8192, 2048), ("2048x8192", 2048, 8192),
  ]

  /// The weight each mode multiplies with: f32 and bf16 from 16-bit weights, int8 from q8.
  static func weight(_ mode: ComputeMode, out: Int, in inFeatures: Int) throws -> any LinearWeight {
    var generator = SystemRandomNumberGenerator()
    let values = (0..<(out * inFeatures)).map { _ in
      Float.random(in: -0.05...0.05, using: &generator)
    }
    let raw = RawTensorData(copying: values, shape: [out, inFeatures], dtype: .bf16)
    return try makeLinearWeight(raw, format: mode.requiredWeights ?? .f16, compute: mode)
  }

  /// Prints one line per mode and shape.
  static func run(rows m: Int, seconds: Double) throws {
    let peak = MachinePeak.measure(minimumSeconds: seconds)
    print(
      String(
        format: "f32 FMA peak %.1f GFLOPS (wall), %.1f per CPU-second, %d threads", peak.fmaGFLOPS,
        peak.fmaGFLOPSCPU, peak.threads))
    print(
      "bf16 dot peak: \(BF16Kernel.avx512bf16.isAvailable ? "(vdpbf16ps present, not measured)" : "n/a (no AVX512-BF16: bf16 runs on the f32 FMA path)"); "
        + "int8 path: \(Int8Kernel.best.rawValue)")
    print("mode   shape       rows  ms/product  GFLOPS(wall)  GFLOPS/CPU-s  %FMA-peak(CPU)")
    let x = (0..<(m * 8192)).map { i in Float((i * 7919) % 2001) / 1000 - 1 }
    let scratch = MatmulScratch()
    for (name, out, inF) in shapes {
      for mode in ComputeMode.allCases {
        let w = try weight(mode, out: out, in: inF)
        var y = [Float](repeating: 0, count: m * out)
        var bestWall = Double.infinity
        var bestCPU = Double.infinity
        let start = CPUClock.wall()
        repeat {
          let (w0, c0) = (CPUClock.wall(), CPUClock.process())
          x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
              w.multiply(
                xp.baseAddress!, rows: m, into: yp.baseAddress!, accumulate: false,
                scratch: scratch)
            }
          }
          bestWall = min(bestWall, CPUClock.wall() - w0)
          bestCPU = min(bestCPU, (CPUClock.process() - c0) / Double(peak.threads))
        } while CPUClock.wall() - start < seconds
        let flops = 2 * Double(m) * Double(out) * Double(inF)
        let label =
          mode.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
          + name.padding(toLength: 11, withPad: " ", startingAt: 0)
        print(
          label
            + String(
              format: "%5d  %10.1f  %12.1f  %12.1f  %13.0f%%", m, bestWall * 1000,
              flops / bestWall / 1e9, flops / bestCPU / 1e9,
              100 * flops / bestCPU / 1e9 / peak.fmaGFLOPSCPU))
      }
    }
  }
}
