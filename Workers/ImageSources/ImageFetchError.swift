public import TrolleyBasics

/// Why an image could not be fetched, and whether trying again later could help.
public struct ImageFetchError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What went wrong.
  public enum Code: String, ErrorCode {
    /// No file at that path, or HTTP 404/410.
    case notFound
    /// The file exists but cannot be read (permissions, a directory...).
    case unreadable
    /// The image is larger than the configured byte limit.
    case tooLarge
    /// The file or response body is empty.
    case empty
    /// The source is not a local path, `file://`, `http://` or `https://` URL.
    case unsupportedSource
    /// The server answered with an HTTP error status.
    case httpStatus
    /// The connection failed (refused, reset, DNS, TLS).
    case network
    /// The server was too slow to connect, to send, or to finish; or a local read its deadline.
    case timeout
    /// The worker's policy forbids the source: a local path outside its image roots, something
    /// other than a regular file, or a private address.
    case notAllowed
  }

  public let code: Code
  /// What went wrong, naming the source, and what to do.
  public let message: String
  /// Whether a later attempt may succeed (network trouble, 5xx, timeouts), as opposed to bad input.
  public let isRetryable: Bool

  public init(_ code: Code, _ message: String, retryable: Bool) {
    self.code = code
    self.message = message
    self.isRetryable = retryable
  }

  public var description: String { message }
  public static func == (lhs: ImageFetchError, rhs: ImageFetchError) -> Bool {
    lhs.code == rhs.code
  }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
