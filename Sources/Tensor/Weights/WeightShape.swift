import TrolleyBasics

/// Validation of a checkpoint tensor's shape as a weight matrix.
enum WeightShape {
  /// (outFeatures, inFeatures) of a 2-D shape [out, in].
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape has two non-negative dimensions.
  static func matrix(_ shape: [Int], for what: String) throws -> (Int, Int) {
    TensorThreads.ensureConfigured()
    guard shape.count == 2, shape[0] >= 0, shape[1] >= 0 else {
      throw TensorError(
        .invalidShape, "\(what) needs a 2-D tensor [out, in], got shape \(shape)")
    }
    return (shape[0], shape[1])
  }
}
