/// One timed product.
public struct KernelMeasurement: Codable, Sendable {
  public var shape: String
  public var outFeatures: Int
  public var inFeatures: Int
  /// Activation rows m (1 and 8: decode; ~1300: prefill).
  public var rows: Int
  public var format: KernelFormat
  /// Best wall seconds per product.
  public var seconds: Double
  /// Best CPU seconds per product and kernel thread (see `Stopwatch`).
  public var cpuSeconds: Double
  /// 2·m·out·in / seconds / 10^9.
  public var gflops: Double
  /// 2·m·out·in / cpuSeconds / 10^9.
  public var gflopsCPU: Double
  /// Bytes of the weight in this format.
  public var weightBytes: Int
  /// Weight bytes read per wall second / 10^9 (the weight is read once per product).
  public var weightGBPerSecond: Double
  /// Weight bytes read per CPU second / 10^9.
  public var weightGBPerSecondCPU: Double

  init(
    shape: KernelShape, format: KernelFormat, rows: Int, seconds: Double, cpuSeconds: Double,
    weightBytes: Int
  ) {
    self.shape = shape.name
    self.outFeatures = shape.outFeatures
    self.inFeatures = shape.inFeatures
    self.rows = rows
    self.format = format
    self.seconds = seconds
    self.cpuSeconds = cpuSeconds
    let flops = 2 * Double(rows) * Double(shape.outFeatures) * Double(shape.inFeatures)
    self.gflops = flops / seconds / 1e9
    self.gflopsCPU = flops / cpuSeconds / 1e9
    self.weightBytes = weightBytes
    self.weightGBPerSecond = Double(weightBytes) / seconds / 1e9
    self.weightGBPerSecondCPU = Double(weightBytes) / cpuSeconds / 1e9
  }
}

/// A decode step of the whole language model (every shape × its count), from the measurements.
/// Each figure comes from wall time and, suffixed `CPU`, from CPU time per thread.
public struct DecodeEstimate: Codable, Sendable {
  public var format: KernelFormat
  /// Sequences decoded together (activation rows).
  public var batch: Int
  /// Weight bytes one step reads.
  public var weightBytes: Int
  /// Seconds per step: Σ count × seconds per product.
  public var stepSeconds: Double
  public var stepSecondsCPU: Double
  /// batch / stepSeconds.
  public var tokensPerSecond: Double
  public var tokensPerSecondCPU: Double
  /// batch × bandwidth / weightBytes: the tokens/s if the step only streamed its weights at the
  /// read bandwidth measured in the same run.
  public var bandwidthBoundTokensPerSecond: Double
  public var bandwidthBoundTokensPerSecondCPU: Double
  /// Achieved weight bytes per second over the measured read bandwidth (1 = at the bound).
  public var fractionOfBandwidth: Double
  public var fractionOfBandwidthCPU: Double
}

/// The layer stack's prefill products (shapes that run over the whole prompt), weighted by how
/// often each shape runs per layer.
public struct PrefillEstimate: Codable, Sendable {
  public var format: KernelFormat
  public var rows: Int
  /// Σ flops / Σ seconds over the layer shapes.
  public var gflops: Double
  public var gflopsCPU: Double
  /// Over the f32 sgemm GFLOPS on the same shapes in this run (1 = as fast as sgemm).
  public var fractionOfSgemm: Double
  public var fractionOfSgemmCPU: Double
  /// Over the FMA-loop peak of this run.
  public var fractionOfFMAPeak: Double
  public var fractionOfFMAPeakCPU: Double
}

/// Everything `KernelBenchmark.run` measured.
public struct KernelReport: Codable, Sendable {
  public var peak: MachinePeak
  public var measurements: [KernelMeasurement]
  public var decode: [DecodeEstimate]
  public var prefill: [PrefillEstimate]

  init(peak: MachinePeak, shapes: [KernelShape], measurements: [KernelMeasurement]) {
    self.peak = peak
    self.measurements = measurements
    let formats = KernelFormat.allCases.filter { f in measurements.contains { $0.format == f } }
    let count = Dictionary(
      shapes.map { ($0.name, Double($0.countPerToken)) }, uniquingKeysWith: { a, _ in a })
    let prefillShapes = Set(shapes.filter(\.inPrefill).map(\.name))
    let rowCounts = Set(measurements.map(\.rows)).sorted()
    // Σ count × value over a set of measurements.
    func total(_ ms: [KernelMeasurement], _ value: (KernelMeasurement) -> Double) -> Double {
      ms.reduce(0.0) { $0 + (count[$1.shape] ?? 0) * value($1) }
    }
    var decode: [DecodeEstimate] = []
    var prefill: [PrefillEstimate] = []
    for format in formats {
      for rows in rowCounts {
        let ms = measurements.filter { $0.format == format && $0.rows == rows }
        if ms.count == shapes.count {
          let bytes = Int(total(ms) { Double($0.weightBytes) })
          let wall = total(ms, \.seconds)
          let cpu = total(ms, \.cpuSeconds)
          let m = Double(rows)
          let b = Double(bytes)
          decode.append(
            DecodeEstimate(
              format: format, batch: rows, weightBytes: bytes, stepSeconds: wall,
              stepSecondsCPU: cpu, tokensPerSecond: m / wall, tokensPerSecondCPU: m / cpu,
              bandwidthBoundTokensPerSecond: m * peak.readGBPerSecond * 1e9 / b,
              bandwidthBoundTokensPerSecondCPU: m * peak.readGBPerSecondCPU * 1e9 / b,
              fractionOfBandwidth: b / wall / (peak.readGBPerSecond * 1e9),
              fractionOfBandwidthCPU: b / cpu / (peak.readGBPerSecondCPU * 1e9)))
        } else if !ms.isEmpty && ms.count == prefillShapes.count
          && ms.allSatisfy({ prefillShapes.contains($0.shape) })
        {
          let flops = total(ms) { $0.gflops * $0.seconds }
          let wall = total(ms, \.seconds)
          let cpu = total(ms, \.cpuSeconds)
          let sgemm = measurements.filter { $0.format == .f32 && $0.rows == rows }
          let sgemmFlops = total(sgemm) { $0.gflops * $0.seconds }
          let sgemmWall = sgemmFlops / total(sgemm, \.seconds)
          let sgemmCPU = sgemmFlops / total(sgemm, \.cpuSeconds)
          prefill.append(
            PrefillEstimate(
              format: format, rows: rows, gflops: flops / wall, gflopsCPU: flops / cpu,
              fractionOfSgemm: flops / wall / sgemmWall, fractionOfSgemmCPU: flops / cpu / sgemmCPU,
              fractionOfFMAPeak: flops / wall / peak.fmaGFLOPS,
              fractionOfFMAPeakCPU: flops / cpu / peak.fmaGFLOPSCPU))
        }
      }
    }
    self.decode = decode
    self.prefill = prefill
  }
}
