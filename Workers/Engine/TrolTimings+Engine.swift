import TroL
import TrolleyJobContracts

extension TrolTimings {
  /// The engine's timings as a result reports them.
  init(_ timings: AnswerTimings) {
    self.init(
      imagePreprocessingSeconds: timings.imagePreprocessingSeconds,
      visionSeconds: timings.visionSeconds, prefillSeconds: timings.prefillSeconds,
      prefillTokens: timings.prefillTokens, decodeSeconds: timings.decodeSeconds,
      decodeTokens: timings.decodeTokens, decodeTokensPerSecond: timings.decodeTokensPerSecond,
      totalSeconds: timings.totalSeconds)
  }
}
