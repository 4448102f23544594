/// One question for the engine, optionally about one image.
public struct AnswerRequest: Sendable {
  /// Where the image comes from.
  public enum Image: Sendable, Hashable {
    /// An image file on disk (any format `ImageDecoder` reads).
    case file(path: String)
    /// Encoded image bytes (as downloaded).
    case encoded([UInt8])
    /// An already decoded image.
    case decoded(RGBImage)
  }

  /// The image, or nil for a text-only question.
  public var image: Image?
  /// The user's question; `<image>` marks where the image goes (put first when absent).
  public var question: String
  /// Token selection, limits and traversal.
  public var options: GenerationOptions
  /// Set it (from any thread) to stop this request early with `TroLError.Code.cancelled`; the rest
  /// of its batch is unaffected. Nil: the request always runs to its end.
  public var cancellation: CancellationFlag?
  /// Counts this request's generated tokens as they come and reports its stages, if given.
  public var progress: GenerationProgress?

  public init(
    image: Image?, question: String, options: GenerationOptions = GenerationOptions(),
    cancellation: CancellationFlag? = nil, progress: GenerationProgress? = nil
  ) {
    self.image = image
    self.question = question
    self.options = options
    self.cancellation = cancellation
    self.progress = progress
  }
}
