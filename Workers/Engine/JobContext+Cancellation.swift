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
}
