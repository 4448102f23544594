public import Tensor

/// An element type as named in a safetensors header.
///
/// Every dtype of the format is recognised so that any valid file can be listed; only F32, F16
/// and BF16 can become model weights (`storageDType`), integer types are read for goldens.
public enum SafeTensorsDType: String, Sendable, Hashable, CaseIterable, Codable {
  case bool = "BOOL"
  case u8 = "U8"
  case i8 = "I8"
  case f8e5m2 = "F8_E5M2"
  case f8e4m3 = "F8_E4M3"
  case i16 = "I16"
  case u16 = "U16"
  case f16 = "F16"
  case bf16 = "BF16"
  case i32 = "I32"
  case u32 = "U32"
  case f32 = "F32"
  case f64 = "F64"
  case i64 = "I64"
  case u64 = "U64"

  /// Bytes per element.
  public var byteWidth: Int {
    switch self {
    case .bool, .u8, .i8, .f8e5m2, .f8e4m3: 1
    case .i16, .u16, .f16, .bf16: 2
    case .i32, .u32, .f32: 4
    case .f64, .i64, .u64: 8
    }
  }

  /// The weight storage type for this dtype, or nil when the engine cannot use it as a weight.
  public var storageDType: StorageDType? {
    switch self {
    case .f32: .f32
    case .f16: .f16
    case .bf16: .bf16
    default: nil
    }
  }

  /// The safetensors dtype of a weight storage type.
  public init(_ storage: StorageDType) {
    switch storage {
    case .f32: self = .f32
    case .f16: self = .f16
    case .bf16: self = .bf16
    }
  }

  /// Whether the elements are integers (or booleans), readable exactly as Int64.
  var isInteger: Bool {
    switch self {
    case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: true
    default: false
    }
  }
}
