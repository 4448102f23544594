/// Why an image could not be fetched, and whether trying again later could help.
public struct ImageFetchError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case notFound, unreadable, tooLarge, empty, unsupportedSource, httpStatus, network, timeout
      case notAllowed
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// No file at that path, or HTTP 404/410.
    public static let notFound = Code(.notFound)
    /// The file exists but cannot be read (permissions, a directory...).
    public static let unreadable = Code(.unreadable)
    /// The image is larger than the configured byte limit.
    public static let tooLarge = Code(.tooLarge)
    /// The file or response body is empty.
    public static let empty = Code(.empty)
    /// The source is not a local path, `file://`, `http://` or `https://` URL.
    public static let unsupportedSource = Code(.unsupportedSource)
    /// The server answered with an HTTP error status.
    public static let httpStatus = Code(.httpStatus)
    /// The connection failed (refused, reset, DNS, TLS).
    public static let network = Code(.network)
    /// The server was too slow to connect, to send, or to finish; or a local read its deadline.
    public static let timeout = Code(.timeout)
    /// The worker's policy forbids the source: a local path outside its image roots, something
    /// other than a regular file, or a private address.
    public static let notAllowed = Code(.notAllowed)

    public var description: String { value.rawValue }
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
