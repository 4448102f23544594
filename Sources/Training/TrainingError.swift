/// An error from training: a bad model folder, sample, flag or checkpoint. The message names what
/// was wrong and what to do.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
