public import TrolleyBasics

/// An error from the TroL engine: a bad checkpoint, tokenizer file, image or request.
///
/// Its message names the file or tensor, never image bytes or prompts.
public typealias TroLError = CodedError<TroLErrorCode>

/// What went wrong in the engine (`TroLError.Code`).
public enum TroLErrorCode: String, ErrorCode {
  /// A checkpoint file is truncated, malformed or lies about its contents.
  case invalidCheckpoint
  /// A tensor the model needs is not in the checkpoint.
  case missingTensor
  /// A tensor is stored in a dtype the engine does not read.
  case unsupportedDType
  /// config.json is missing, malformed, or describes an unsupported model.
  case invalidConfig
  /// A tokenizer file is missing or malformed.
  case invalidTokenizer
  /// An image file is empty, truncated or corrupt.
  case invalidImage
  /// An image exceeds the pixel or byte limits (a decompression bomb, for example).
  case imageTooLarge
  /// An image is in a format the engine does not decode.
  case unsupportedImageFormat
  /// A generation request is malformed (no tokens, bad sampling settings...).
  case invalidRequest
  /// Reading a file failed.
  case io
  /// The request's `CancellationFlag` was set before it finished; nothing is wrong with it.
  case cancelled
}
