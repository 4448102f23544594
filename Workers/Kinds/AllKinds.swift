import JobQueue

/// Every job kind this worker binary can run, listed once (like a command's subcommands).
public enum AllKinds {
  /// The kinds that exercise the queue without a model.
  public static let test: [any JobKind] = [NoopJob(), SleepJob(), FailJob(), CrashJob()]

  /// Every kind, by name.
  public static var all: [any JobKind] { test }

  /// The names of every kind.
  public static var names: [String] { all.map { type(of: $0).name } }

  /// The kinds with these names.
  /// - Throws: `JobQueueError.Code.invalidRequest` naming an unknown kind and the known ones.
  public static func named(_ names: [String]) throws -> [any JobKind] {
    try names.map { name in
      guard let kind = all.first(where: { type(of: $0).name == name }) else {
        throw JobQueueError(
          .invalidRequest,
          "Unknown job kind \(name); known kinds: \(Self.names.joined(separator: ", "))")
      }
      return kind
    }
  }
}
