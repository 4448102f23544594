/// Micro-benchmarks of the weight kernels on a model's shapes, next to the machine's peaks.
///
/// Decode products (m = 1 and small batches) are measured on a weight with the shape's rows
/// replicated until it is several times the last-level cache, and reported per product of the
/// real shape: a decode step streams every layer's weights from memory, so timing one small
/// matrix that stays in L3 would overstate the bandwidth.
public enum KernelBenchmark {
  /// What to measure.
  public struct Configuration: Sendable {
    /// Shapes; default TroL-1.8B's language model.
    public var shapes: [KernelShape] = KernelShape.trol1_8B
    /// Formats; default all.
    public var formats: [KernelFormat] = KernelFormat.allCases
    /// Decode batch sizes (activation rows); default 1 and 8.
    public var decodeRows: [Int] = [1, 8]
    /// Prompt length for the prefill products (0 skips prefill); default 1300 (1225 image
    /// tokens plus a prompt).
    public var prefillRows: Int = 1300
    /// Bytes each decode measurement streams per repetition, at least; default 128 MiB (4× L3).
    public var streamBytes: Int = 128 << 20
    /// Bytes of the peak read-bandwidth test's buffer; default 256 MiB (8× L3).
    public var peakStreamBytes: Int = 256 << 20
    /// Seconds each measurement repeats for (best repetition reported); default 0.3.
    public var minimumSeconds: Double = 0.3

    /// The defaults above.
    public init() {}
  }

  /// Runs the benchmark with `TensorThreads.count` threads.
  ///
  /// - Parameters:
  ///   - configuration: what to measure.
  ///   - progress: called with each measurement as it completes.
  /// - Returns: the peaks, every measurement, and per-format decode and prefill summaries.
  public static func run(
    _ configuration: Configuration, progress: (KernelMeasurement) -> Void = { _ in }
  ) -> KernelReport {
    let peak = MachinePeak.measure(
      streamBytes: configuration.peakStreamBytes, minimumSeconds: configuration.minimumSeconds)
    var measurements: [KernelMeasurement] = []
    for shape in configuration.shapes {
      for format in configuration.formats {
        // One weight per shape and format: rows replicated so one product streams streamBytes.
        let probe = format.make(outFeatures: 4, inFeatures: shape.inFeatures, seed: 1)
        let bytesPerRow = Double(probe.byteCount) / 4
        let copies = max(
          1,
          Int(
            (Double(configuration.streamBytes) / (bytesPerRow * Double(shape.outFeatures))).rounded(
              .up)))
        let big = format.make(
          outFeatures: shape.outFeatures * copies, inFeatures: shape.inFeatures, seed: 7)
        for rows in configuration.decodeRows {
          let m = measure(big, rows: rows, minimumSeconds: configuration.minimumSeconds)
          let result = KernelMeasurement(
            shape: shape, format: format, rows: rows, seconds: m.wall / Double(copies),
            cpuSeconds: m.cpu / Double(copies),
            weightBytes: big.byteCount / copies)
          measurements.append(result)
          progress(result)
        }
        if configuration.prefillRows > 0 && shape.inPrefill {
          let weight =
            copies == 1
            ? big
            : format.make(outFeatures: shape.outFeatures, inFeatures: shape.inFeatures, seed: 7)
          let m = measure(
            weight, rows: configuration.prefillRows, minimumSeconds: configuration.minimumSeconds)
          let result = KernelMeasurement(
            shape: shape, format: format, rows: configuration.prefillRows, seconds: m.wall,
            cpuSeconds: m.cpu,
            weightBytes: weight.byteCount)
          measurements.append(result)
          progress(result)
        }
      }
    }
    return KernelReport(peak: peak, shapes: configuration.shapes, measurements: measurements)
  }

  /// Best (wall, CPU) seconds per product of `weight` with `rows` activation rows.
  static func measure(_ weight: any LinearWeight, rows: Int, minimumSeconds: Double)
    -> Stopwatch.Timing
  {
    var state: UInt32 = 12345
    let x = (0..<(rows * weight.inFeatures)).map { _ -> Float in
      state = state &* 1_664_525 &+ 1_013_904_223
      return Float(Int32(bitPattern: state)) * 0x1p-31
    }
    var y = [Float](repeating: 0, count: rows * weight.outFeatures)
    let scratch = MatmulScratch()
    return x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        Stopwatch.best(minimumSeconds: minimumSeconds, threads: TensorThreads.count) {
          weight.multiply(
            xp.baseAddress!, rows: rows, into: yp.baseAddress!, accumulate: false, scratch: scratch)
        }
      }
    }
  }
}
