public import TrolleyBasics

/// An error from the Tensor module: a tensor whose shape or dtype cannot back the requested weight.
///
/// Its message names shapes and formats, never tensor contents.
public typealias TensorError = CodedError<TensorErrorCode>

/// What went wrong in the Tensor module (`TensorError.Code`).
public enum TensorErrorCode: String, ErrorCode {
  /// A tensor's shape does not fit the use (a weight matrix that is not 2-D, an empty matrix...).
  case invalidShape
  /// A tensor to be quantized holds NaN or infinity (a corrupt checkpoint).
  case nonFiniteValue
  /// The requested weight format cannot be built from this tensor.
  case unsupportedFormat
}
