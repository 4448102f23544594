/// An error from the Tensor module: a tensor whose shape or dtype cannot back the requested weight.
///
/// `description` is safe to log; callers branch on `code`, never on the message text.
public struct TensorError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case invalidShape, nonFiniteValue, unsupportedFormat
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// A tensor's shape does not fit the use (a weight matrix that is not 2-D, an empty matrix...).
    public static let invalidShape = Code(.invalidShape)
    /// A tensor to be quantized holds NaN or infinity (a corrupt checkpoint).
    public static let nonFiniteValue = Code(.nonFiniteValue)
    /// The requested weight format cannot be built from this tensor.
    public static let unsupportedFormat = Code(.unsupportedFormat)

    public var description: String { value.rawValue }
  }

  public let code: Code
  /// What was wrong and what to do; names shapes and formats, never tensor contents.
  public let message: String
  public let file: String
  public let line: Int

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: what kind of failure this is; callers branch on it.
  ///   - message: what was wrong and what to do.
  public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
  }

  public var description: String { message }

  public static func == (lhs: TensorError, rhs: TensorError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
