public import Foundation

/// Where one migration stands in a database, as `trolley migrate --status` prints it.
public struct MigrationStatus: Sendable, Hashable {
  /// The migration's state.
  public enum State: Sendable, Hashable {
    /// Applied at this time, with the same text as this build's file.
    case applied(Date)
    /// In this build but not applied yet.
    case pending
    /// Applied at this time, but this build's file has different text (it was edited afterwards).
    case changed(Date)
    /// Recorded in the database but not in this build (the database is newer than this binary).
    case unknown(Date)
  }

  public let version: Int64
  public let name: String
  public let state: State
}
