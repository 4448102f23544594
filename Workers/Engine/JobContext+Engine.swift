public import TroL

extension JobContext {
  /// A flag the engine checks between decode steps and prefill layers, set when this job is asked
  /// to stop (cancel request, timeout, lost lease, shutdown), so its request ends promptly while
  /// the rest of its engine batch carries on.
  public func engineCancellation() -> CancellationFlag {
    let flag = CancellationFlag()
    onStop { flag.cancel() }
    return flag
  }

  /// A token counter for the job's engine request; the job's heartbeats then carry the fraction
  /// of `maxNewTokens` generated so far.
  public func engineProgress(maxNewTokens: Int) -> GenerationProgress {
    let progress = GenerationProgress()
    let limit = Double(max(maxNewTokens, 1))
    reportProgress(from: { min(Double(progress.generatedTokens) / limit, 1) })
    return progress
  }
}

extension EngineBatch.Item {
  /// The engine request of the job behind `context`: `settings`' generation options for the
  /// payload's limits, stopped with the job, its tokens counted in the job's progress.
  init(
    image: String, question: String, maxNewTokens: Int?, beams: Int?, context: JobContext,
    settings: EngineJobSettings
  ) throws {
    let options = try settings.options(maxNewTokens: maxNewTokens, beams: beams)
    self.init(
      image: image, question: question, options: options,
      cancellation: context.engineCancellation(),
      progress: context.engineProgress(maxNewTokens: options.maxNewTokens))
  }
}
