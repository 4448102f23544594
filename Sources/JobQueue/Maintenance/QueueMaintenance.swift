public import ServiceLifecycle

/// The queue's maintenance duties, each run by a `PeriodicService`: the one list of what every
/// worker runs beside its loop.
public enum QueueMaintenance {
  /// Every maintenance duty as a service, with its default configuration except where given.
  /// Each pass takes a lock or is idempotent, so the whole fleet may run them at once.
  /// - Parameters:
  ///   - store: The queue.
  ///   - retainSucceeded: How long succeeded jobs (and their results) are kept; nil: for ever.
  ///   - reindexInterval: How often the fleet rebuilds the hot indexes; nil: never.
  public static func services(
    store: JobStore, retainSucceeded: Duration? = nil, reindexInterval: Duration? = nil
  ) -> [any Service] {
    var services: [any Service] = [
      PeriodicService(Scheduler(store: store)), PeriodicService(Rescuer(store: store)),
      PeriodicService(WorkerSweeper(store: store)),
      PeriodicService(BatchCounterRollup(store: store)),
      PeriodicService(DependencyReconciler(store: store)),
      PeriodicService(
        RetentionCleaner(store: store, configuration: .init(succeededAge: retainSucceeded))),
    ]
    if let reindexInterval {
      services.append(
        PeriodicService(Reindexer(store: store, configuration: .init(interval: reindexInterval))))
    }
    return services
  }
}
