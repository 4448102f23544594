import Dispatch
import Synchronization

/// A level-triggered wake-up: `signal()` wakes the one waiter, or the next `wait` if nobody is
/// waiting yet, so a signal is never lost between checking for work and starting to wait.
///
/// A wait is one continuation and one dispatch timer (no task group, no sleeping child task):
/// the worker loop waits several times per claim cycle, so this cost shows in the claim+complete
/// rate at small claim sizes.
final class WakeSignal: Sendable {
  private struct State {
    var pending = false
    var waiter: CheckedContinuation<Void, Never>?
    /// Tells a late timeout from the wait it was set for.
    var generation: UInt64 = 0
  }
  private let state = Mutex(State())

  /// Wakes the waiter (or the next one).
  func signal() {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.pending = true
      return nil
    }
    waiter?.resume()
  }

  /// Returns when signalled, when `timeout` passes, or when the task is cancelled.
  func wait(timeout: Duration) async {
    if state.withLock({ state in
      defer { state.pending = false }
      return state.pending
    }) {
      return
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let generation = state.withLock { state -> UInt64? in
          if state.pending || Task.isCancelled {
            state.pending = false
            return nil
          }
          state.generation &+= 1
          state.waiter = continuation
          return state.generation
        }
        guard let generation else {
          continuation.resume()
          return
        }
        let nanoseconds =
          max(0, timeout.components.seconds) * 1_000_000_000
          + max(0, timeout.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(
          deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))
        ) { [self] in
          expire(generation)
        }
      }
    } onCancel: {
      let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
        defer { state.waiter = nil }
        return state.waiter
      }
      waiter?.resume()
    }
  }

  /// Ends the wait `generation` if it is still waiting.
  private func expire(_ generation: UInt64) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard state.generation == generation, let waiter = state.waiter else { return nil }
      state.waiter = nil
      return waiter
    }
    waiter?.resume()
  }
}
