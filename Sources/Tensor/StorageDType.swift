/// The element type of a tensor as stored in a checkpoint file.
public enum StorageDType: String, Sendable, Hashable, CaseIterable {
  case f32 = "F32"
  case f16 = "F16"
  case bf16 = "BF16"

  /// Bytes per element.
  public var byteWidth: Int {
    switch self {
    case .f32: 4
    case .f16, .bf16: 2
    }
  }
}

/// A read-only view of one tensor's bytes inside a checkpoint (usually memory-mapped).
///
/// `owner` keeps the mapping alive for as long as the view (or a weight built on it) lives.
public struct RawTensorData: @unchecked Sendable {
  public let dtype: StorageDType
  public let shape: [Int]
  public let bytes: UnsafeRawBufferPointer
  public let owner: AnyObject?

  public init(dtype: StorageDType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
    precondition(
      bytes.count == shape.reduce(1, *) * dtype.byteWidth,
      "RawTensorData: \(bytes.count) bytes for shape \(shape) of \(dtype)")
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
    self.owner = owner
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }
}
