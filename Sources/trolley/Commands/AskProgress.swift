import Foundation
import Synchronization
import TroL
import TrolleyCLIKit

/// What `trolley ask` shows while the engine works: the stage on standard error (a status line
/// that rewrites itself on a terminal), and on a terminal the answer's text on standard output
/// as each token is chosen. A 1.8B model takes over a minute per answer on a CPU; silence for
/// that long looks like a hang.
///
/// The streamed text is the engine's own answer extraction applied to the tokens so far, and
/// only ever grows (a piece is printed once the text so far starts with what is already on
/// screen), so what the terminal shows at the end is exactly the final answer.
final class AskProgress: Sendable {
  private struct State {
    var tokens: [Int] = []
    var printed = ""
    var statusShown = false
    var decodingStarted = Date()
  }

  private let engine: TroLEngine
  private let showStages: Bool
  private let streamTokens: Bool
  private let state = Mutex(State())
  private let write: @Sendable (String, Int32) -> Void

  /// - Parameters:
  ///   - showStages: Write the stage status line to standard error.
  ///   - streamTokens: Write the answer to standard output token by token.
  ///   - write: Writes text to a descriptor (1 or 2); the terminal unless a test captures it.
  init(
    engine: TroLEngine, showStages: Bool, streamTokens: Bool,
    write: @escaping @Sendable (String, Int32) -> Void = { Terminal.write($0, to: $1) }
  ) {
    self.engine = engine
    self.showStages = showStages
    self.streamTokens = streamTokens
    self.write = write
  }

  /// Whether standard output already holds (part of) the answer.
  var streamed: Bool { state.withLock { !$0.tokens.isEmpty && streamTokens } }

  /// The `GenerationProgress` to put in the request.
  func progress() -> GenerationProgress {
    GenerationProgress(observer: { [self] event in handle(event) })
  }

  /// "loading the model…" before the engine exists.
  static func loading(_ model: String) {
    Terminal.write("\r\u{1B}[Kloading the model from \(model)…", to: 2)
  }

  private func handle(_ event: GenerationProgress.Event) {
    switch event {
    case .stage(let stage):
      let text: String
      switch stage {
      case .preprocessing: text = "preprocessing the image…"
      case .vision: text = "running the vision encoder…"
      case .prefill: text = "reading the prompt (prefill)…"
      case .decoding:
        state.withLock { $0.decodingStarted = Date() }
        text = streamTokens ? "" : "generating the answer…"
      }
      status(text)
    case .token(let token):
      let delta: String? = state.withLock { state in
        state.tokens.append(token)
        guard streamTokens else { return nil }
        let text = Self.stablePrefix(
          engine.template.extractAnswer(
            from: engine.tokenizer.decode(state.tokens, skipSpecialTokens: false)))
        guard text.hasPrefix(state.printed), text.count > state.printed.count else { return nil }
        let piece = String(text.dropFirst(state.printed.count))
        state.printed = text
        return piece
      }
      if let delta, !delta.isEmpty { write(delta, 1) }
      if !streamTokens { count() }
    case .beamLength:
      count()
    }
  }

  /// The part of the text so far that later tokens cannot change: without a trailing U+FFFD or
  /// control character (a multi-byte character split across byte tokens decodes to those until
  /// its last byte arrives) and without trailing whitespace (the answer is trimmed).
  static func stablePrefix(_ text: String) -> String {
    var end = text.endIndex
    while end > text.startIndex {
      let previous = text.index(before: end)
      let character = text[previous]
      let unstable =
        character == "\u{FFFD}" || character.isWhitespace
        || character.unicodeScalars.contains { $0.properties.generalCategory == .control }
      if !unstable { break }
      end = previous
    }
    return String(text[..<end])
  }

  private func count() {
    guard showStages else { return }
    let (tokens, started) = state.withLock { ($0.tokens.count, $0.decodingStarted) }
    let seconds = Date().timeIntervalSince(started)
    let rate = seconds > 0 ? String(format: ", %.1f tok/s", Double(tokens) / seconds) : ""
    status("generating the answer… \(tokens) tokens\(rate)")
  }

  private func status(_ text: String) {
    guard showStages else { return }
    state.withLock { $0.statusShown = !text.isEmpty }
    write("\r\u{1B}[K" + text, 2)
  }

  /// Clears the status line and prints what the stream has not shown of the final answer.
  /// - Returns: true when the answer is now fully on standard output.
  func finish(answer: String) -> Bool {
    let (printed, statusShown) = state.withLock { ($0.printed, $0.statusShown) }
    // Clear the status line unless the streamed answer is on it.
    if showStages && (statusShown || printed.isEmpty) { write("\r\u{1B}[K", 2) }
    guard streamTokens else { return false }
    if answer.hasPrefix(printed) {
      write(String(answer.dropFirst(printed.count)) + "\n", 1)
    } else {
      write("\n" + answer + "\n", 1)
    }
    return true
  }
}
