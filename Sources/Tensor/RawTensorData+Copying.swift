/// Owned bytes behind a `RawTensorData` that did not come from a checkpoint mapping.
final class OwnedTensorBytes: @unchecked Sendable {
  let buffer: UnsafeMutableRawBufferPointer

  init(byteCount: Int) {
    buffer = .allocate(byteCount: max(1, byteCount), alignment: 64)
  }

  deinit { buffer.deallocate() }
}

extension RawTensorData {
  /// A tensor holding a copy of `values` in `dtype` (narrowed with round-to-nearest-even when
  /// 16-bit); the copy lives as long as the tensor or any weight built on it.
  ///
  /// - Parameters:
  ///   - values: the elements in row-major order; `values.count` must equal the shape's product.
  ///   - shape: the tensor's shape.
  ///   - dtype: the storage dtype; f32 by default.
  public init(copying values: [Float], shape: [Int], dtype: StorageDType = .f32) {
    let owner = OwnedTensorBytes(byteCount: values.count * dtype.byteWidth)
    let start = owner.buffer.baseAddress!
    Self.store(values, as: dtype, at: start)
    self.init(
      dtype: dtype, shape: shape,
      bytes: UnsafeRawBufferPointer(start: start, count: values.count * dtype.byteWidth),
      owner: owner)
  }

  /// Writes `values` as `dtype` elements at `destination`, which holds
  /// `values.count * dtype.byteWidth` bytes and needs no alignment.
  public static func store(
    _ values: [Float], as dtype: StorageDType, at destination: UnsafeMutableRawPointer
  ) {
    values.withUnsafeBufferPointer { v in
      guard let source = v.baseAddress else { return }
      switch dtype {
      case .f32: destination.copyMemory(from: source, byteCount: v.count * 4)
      case .f16: HalfConversion.narrowToF16(source, into: destination, count: v.count)
      case .bf16: HalfConversion.narrowToBF16(source, into: destination, count: v.count)
      }
    }
  }
}
