internal import Synchronization

/// How far one request's generation has got, readable from any thread while the engine runs (a
/// worker reports it with its heartbeats), and optionally pushed to an observer as it happens
/// (`trolley ask` shows the stages and streams the answer's tokens with it).
public final class GenerationProgress: Sendable {
  /// Where a request is in the pipeline.
  public enum Stage: String, Sendable, Hashable {
    /// Decoding and resizing the image.
    case preprocessing
    /// Running the vision encoder and projector.
    case vision
    /// Running the decoder over the prompt.
    case prefill
    /// Generating new tokens.
    case decoding
  }

  /// What an observer hears, on the engine's thread, in order.
  public enum Event: Sendable, Hashable {
    /// The request entered a stage.
    case stage(Stage)
    /// Greedy or sampled decoding chose this token (stop tokens included).
    case token(Int)
    /// Beam search advanced its beams to this length (beams have no single token to show).
    case beamLength(Int)
  }

  private let tokens = Atomic<Int>(0)
  private let observer: (@Sendable (Event) -> Void)?

  /// - Parameter observer: Called synchronously on the engine's thread for each event; keep it
  ///   cheap (it runs between decode steps).
  public init(observer: (@Sendable (Event) -> Void)? = nil) {
    self.observer = observer
  }

  /// Tokens generated so far (for a beam search, the length of its beams).
  public var generatedTokens: Int { tokens.load(ordering: .relaxed) }

  func record(token: Int, count: Int) {
    tokens.store(count, ordering: .relaxed)
    if count == 1 { observer?(.stage(.decoding)) }
    observer?(.token(token))
  }

  func record(beamLength count: Int) {
    tokens.store(count, ordering: .relaxed)
    if count == 1 { observer?(.stage(.decoding)) }
    observer?(.beamLength(count))
  }

  func enter(_ stage: Stage) { observer?(.stage(stage)) }
}
