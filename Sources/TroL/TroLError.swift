/// An error from the TroL engine: a bad checkpoint, tokenizer file, image or request.
///
/// `description` is safe to log; callers branch on `code`, never on the message text.
public struct TroLError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case invalidCheckpoint, missingTensor, unsupportedDType, invalidConfig, invalidTokenizer
      case invalidImage, imageTooLarge, unsupportedImageFormat, invalidRequest, io, cancelled
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// A checkpoint file is truncated, malformed or lies about its contents.
    public static let invalidCheckpoint = Code(.invalidCheckpoint)
    /// A tensor the model needs is not in the checkpoint.
    public static let missingTensor = Code(.missingTensor)
    /// A tensor is stored in a dtype the engine does not read.
    public static let unsupportedDType = Code(.unsupportedDType)
    /// config.json is missing, malformed, or describes an unsupported model.
    public static let invalidConfig = Code(.invalidConfig)
    /// A tokenizer file is missing or malformed.
    public static let invalidTokenizer = Code(.invalidTokenizer)
    /// An image file is empty, truncated or corrupt.
    public static let invalidImage = Code(.invalidImage)
    /// An image exceeds the pixel or byte limits (a decompression bomb, for example).
    public static let imageTooLarge = Code(.imageTooLarge)
    /// An image is in a format the engine does not decode.
    public static let unsupportedImageFormat = Code(.unsupportedImageFormat)
    /// A generation request is malformed (no tokens, bad sampling settings...).
    public static let invalidRequest = Code(.invalidRequest)
    /// Reading a file failed.
    public static let io = Code(.io)
    /// The request's `CancellationFlag` was set before it finished; nothing is wrong with it.
    public static let cancelled = Code(.cancelled)

    public var description: String { value.rawValue }
  }

  public let code: Code
  /// What was wrong and what to do, naming the file or tensor; never image bytes or prompts.
  public let message: String
  public let file: String
  public let line: Int

  public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
  }

  public var description: String { message }

  public static func == (lhs: TroLError, rhs: TroLError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
