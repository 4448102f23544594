/// One timed product.
public struct KernelMeasurement: Codable, Sendable {
  public var shape: String
  public var outFeatures: Int
  public var inFeatures: Int
  /// Activation rows m (1 and 8: decode; ~1300: prefill).
  public var rows: Int
  public var format: KernelFormat
  /// Best seconds per product.
  public var seconds: Double
  /// 2·m·out·in / seconds / 10^9.
  public var gflops: Double
  /// Bytes of the weight in this format.
  public var weightBytes: Int
  /// Weight bytes read per second / 10^9 (the weight is read once per product).
  public var weightGBPerSecond: Double

  init(shape: KernelShape, format: KernelFormat, rows: Int, seconds: Double, weightBytes: Int) {
    self.shape = shape.name
    self.outFeatures = shape.outFeatures
    self.inFeatures = shape.inFeatures
    self.rows = rows
    self.format = format
    self.seconds = seconds
    self.gflops =
      2 * Double(rows) * Double(shape.outFeatures) * Double(shape.inFeatures) / seconds / 1e9
    self.weightBytes = weightBytes
    self.weightGBPerSecond = Double(weightBytes) / seconds / 1e9
  }
}

/// A decode step of the whole language model (every shape × its count), from the measurements.
public struct DecodeEstimate: Codable, Sendable {
  public var format: KernelFormat
  /// Sequences decoded together (activation rows).
  public var batch: Int
  /// Seconds per step: Σ count × seconds per product.
  public var stepSeconds: Double
  /// batch / stepSeconds.
  public var tokensPerSecond: Double
  /// Weight bytes one step reads.
  public var weightBytes: Int
  /// batch × bandwidth / weightBytes: the tokens/s if the step only streamed its weights at the
  /// measured read bandwidth.
  public var bandwidthBoundTokensPerSecond: Double
  /// Achieved weight bytes per second over the measured bandwidth (1 = at the bound).
  public var fractionOfBandwidth: Double
}

/// The layer stack's prefill products (shapes that run over the whole prompt).
public struct PrefillEstimate: Codable, Sendable {
  public var format: KernelFormat
  public var rows: Int
  /// Σ flops / Σ seconds over the layer shapes.
  public var gflops: Double
  /// gflops over the f32 sgemm GFLOPS on the same shapes in this run (1 = as fast as sgemm).
  public var fractionOfSgemm: Double
  /// gflops over the FMA-loop peak.
  public var fractionOfFMAPeak: Double
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
      shapes.map { ($0.name, $0.countPerToken) }, uniquingKeysWith: { a, _ in a })
    let prefillShapes = Set(shapes.filter(\.inPrefill).map(\.name))
    let decodeRows = Set(measurements.map(\.rows)).sorted()
    var decode: [DecodeEstimate] = []
    var prefill: [PrefillEstimate] = []
    for format in formats {
      for rows in decodeRows {
        let ms = measurements.filter { $0.format == format && $0.rows == rows }
        if ms.count == shapes.count {
          let seconds = ms.reduce(0.0) { $0 + Double(count[$1.shape] ?? 0) * $1.seconds }
          let bytes = ms.reduce(0) { $0 + (count[$1.shape] ?? 0) * $1.weightBytes }
          decode.append(
            DecodeEstimate(
              format: format, batch: rows, stepSeconds: seconds,
              tokensPerSecond: Double(rows) / seconds,
              weightBytes: bytes,
              bandwidthBoundTokensPerSecond: Double(rows) * peak.readGBPerSecond * 1e9
                / Double(bytes),
              fractionOfBandwidth: Double(bytes) / seconds / (peak.readGBPerSecond * 1e9)))
        } else if !ms.isEmpty && ms.allSatisfy({ prefillShapes.contains($0.shape) })
          && ms.count == prefillShapes.count
        {
          // Weighted by how often each shape runs per token, as a layer stack would run them.
          func rate(_ ms: [KernelMeasurement]) -> (Double, Double) {
            let weight = { (m: KernelMeasurement) in Double(count[m.shape] ?? 0) }
            return (
              ms.reduce(0.0) { $0 + weight($1) * $1.gflops * $1.seconds },
              ms.reduce(0.0) { $0 + weight($1) * $1.seconds }
            )
          }
          let (flops, seconds) = rate(ms)
          let (sgemmFlops, sgemmSeconds) = rate(
            measurements.filter { $0.format == .f32 && $0.rows == rows })
          let sgemmGFLOPS = sgemmFlops / sgemmSeconds
          prefill.append(
            PrefillEstimate(
              format: format, rows: rows, gflops: flops / seconds,
              fractionOfSgemm: flops / seconds / sgemmGFLOPS,
              fractionOfFMAPeak: flops / seconds / peak.fmaGFLOPS))
        }
      }
    }
    self.decode = decode
    self.prefill = prefill
  }
}
