/// A NOTIFY received on a channel this connection LISTENs on.
public struct PostgresNotification: Hashable, Sendable {
  /// The channel name.
  public let channel: String
  /// The payload ('' when none was given).
  public let payload: String
  /// The server process that sent it.
  public let senderPID: Int32
}
