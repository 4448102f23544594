internal import CCurl
import Foundation
import Synchronization

/// Reads image bytes from a local path, a `file://` URL or an `http(s)://` URL.
///
/// Secure by default, because the source comes from a job's payload: local files are read only
/// under `Policy.localRoots` (none by default), only regular files, without blocking, on a
/// thread of their own with a deadline; HTTP reaches only public addresses (checked by libcurl
/// on the address of every connection, after DNS resolution and after every redirect) unless
/// `Policy.allowPrivateAddresses`. Error messages name the source, never bytes read from it.
///
/// HTTP goes through libcurl on a thread of its own, never on the cooperative pool, with connect,
/// stall and total timeouts, a byte limit enforced while streaming, and in-process retries for
/// transient failures. Every failure is an `ImageFetchError` classified as retryable or not.
public struct ImageFetcher: Sendable {
  /// Limits and retry settings.
  public struct Policy: Sendable {
    /// Largest accepted image, in bytes. Default 64 MiB.
    public var maxBytes: Int = 64 << 20
    /// TCP/TLS connect timeout. Default 5 s.
    public var connectTimeout: Duration = .seconds(5)
    /// Abort when the server sends nothing for this long. Default 15 s.
    public var stallTimeout: Duration = .seconds(15)
    /// Bound on one whole download. Default 60 s.
    public var totalTimeout: Duration = .seconds(60)
    /// Tries for a transient HTTP failure before giving up (1 = no retry). Default 3.
    public var attempts: Int = 3
    /// Delay before the first retry; doubles after each. Default 250 ms.
    public var retryDelay: Duration = .milliseconds(250)
    /// Folders local paths and `file://` URLs may read from (symbolic links are resolved before
    /// the check). Default none: a worker reads local files only under `--image-root DIR`.
    public var localRoots: [String] = []
    /// Fetch from loopback, private, link-local and reserved addresses too. Default false.
    public var allowPrivateAddresses = false
    /// Bound on reading one local file (a stalled network file system). Default 30 s.
    public var localReadTimeout: Duration = .seconds(30)
    /// Tests only: 127.0.0.1 on this port passes as a public address, so a loopback server can
    /// stand in for a public one that redirects to a private address. Not reachable from flags.
    var exemptLoopbackPort = 0

    public init() {}

    /// Any local file and any address: for tests and for tools whose sources the operator typed.
    public static var unrestricted: Policy {
      var policy = Policy()
      policy.localRoots = ["/"]
      policy.allowPrivateAddresses = true
      return policy
    }
  }

  public let policy: Policy

  public init(policy: Policy = Policy()) {
    precondition(
      policy.maxBytes > 0 && policy.attempts >= 1,
      "ImageFetcher.Policy: maxBytes and attempts must be positive")
    self.policy = policy
    Self.initializeCurlOnce
  }

  private static let initializeCurlOnce: Void = trolley_curl_global_init()

  /// The bytes of the image at `source`.
  /// - Throws: `ImageFetchError`.
  public func fetch(_ source: String) async throws -> [UInt8] {
    let trimmed = source.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty {
      throw ImageFetchError(
        .unsupportedSource, "the image source is empty: give a file path or an http(s) URL",
        retryable: false)
    }
    let lower = trimmed.lowercased()
    if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
      return try await fetchHTTP(trimmed)
    }
    if lower.hasPrefix("file://") {
      guard let url = URL(string: trimmed), url.isFileURL else {
        throw ImageFetchError(
          .unsupportedSource, "'\(trimmed)' is not a valid file:// URL", retryable: false)
      }
      return try await readLocal(url.path)
    }
    if let colon = trimmed.firstIndex(of: ":"), trimmed[..<colon].allSatisfy({ $0.isLetter }),
      trimmed[..<colon].count > 1, trimmed[trimmed.index(after: colon)...].hasPrefix("//")
    {
      throw ImageFetchError(
        .unsupportedSource,
        "unsupported image source scheme '\(trimmed[..<colon])': use a local path, file://, http:// or https://",
        retryable: false)
    }
    return try await readLocal(trimmed)
  }

  /// Reads a local file under one of the roots, on a thread of its own, within
  /// `localReadTimeout`: a read stuck in a network file system costs that thread, never one of
  /// the cooperative pool's (two on this machine) nor the job's slot past the deadline.
  func readLocal(_ path: String) async throws -> [UInt8] {
    let policy = self.policy
    let outcome = ResumeOnce<Result<[UInt8], ImageFetchError>>()
    let result: Result<[UInt8], ImageFetchError> = await withCheckedContinuation { continuation in
      outcome.set(continuation)
      let reader = Thread {
        let read = LocalImageReader(policy: policy).read(path)
        outcome.resume(returning: read)
      }
      reader.stackSize = 1 << 20
      reader.start()
      let deadline = Thread {
        Thread.sleep(forTimeInterval: Self.seconds(policy.localReadTimeout))
        outcome.resume(
          returning: .failure(
            ImageFetchError(
              .timeout,
              "reading the image file \(path) took longer than \(Self.seconds(policy.localReadTimeout)) s; the job will be retried",
              retryable: true)))
      }
      deadline.stackSize = 64 << 10
      deadline.start()
    }
    return try result.get()
  }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  private func fetchHTTP(_ url: String) async throws -> [UInt8] {
    var delay = policy.retryDelay
    var attempt = 1
    while true {
      do {
        return try await downloadOnce(url)
      } catch let error as ImageFetchError where error.isRetryable && attempt < policy.attempts {
        try await Task.sleep(for: delay)
        delay *= 2
        attempt += 1
      }
    }
  }

  private func downloadOnce(_ url: String) async throws -> [UInt8] {
    let policy = self.policy
    let outcome: Result<[UInt8], ImageFetchError> = await withCheckedContinuation { continuation in
      // libcurl blocks; a thread of its own keeps the cooperative pool (2 threads here) free.
      let thread = Thread {
        continuation.resume(returning: Self.blockingDownload(url, policy: policy))
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    return try outcome.get()
  }

  private static func milliseconds(_ duration: Duration) -> Int {
    Int(
      duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
  }

  private static func blockingDownload(_ url: String, policy: Policy) -> Result<
    [UInt8], ImageFetchError
  > {
    var result = trolley_fetch_result()
    trolley_fetch_url(
      url, milliseconds(policy.connectTimeout), milliseconds(policy.stallTimeout),
      milliseconds(policy.totalTimeout), policy.maxBytes, policy.allowPrivateAddresses ? 1 : 0,
      Int32(clamping: policy.exemptLoopbackPort), &result)
    defer { trolley_fetch_result_free(&result) }
    let curlMessage = withUnsafeBytes(of: result.error) { raw in
      String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    if result.blocked_private != 0 {
      let address = withUnsafeBytes(of: result.blocked_address) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      return .failure(
        ImageFetchError(
          .notAllowed,
          "refused to fetch \(url): it leads to the private address \(address) (loopback, LAN, link-local or reserved); workers fetch only public addresses unless started with --allow-private-urls",
          retryable: false))
    }
    if result.too_large != 0 {
      return .failure(
        ImageFetchError(
          .tooLarge, "image at \(url) is over the \(policy.maxBytes)-byte limit", retryable: false))
    }
    if result.curl_code != 0 {
      return .failure(classifyCurl(code: result.curl_code, message: curlMessage, url: url))
    }
    let status = result.http_status
    if status >= 400 {
      let retryable = status >= 500 || status == 408 || status == 429
      let code: ImageFetchError.Code = (status == 404 || status == 410) ? .notFound : .httpStatus
      let hint = retryable ? "the server may recover; the job will be retried" : "check the URL"
      return .failure(
        ImageFetchError(
          code, "fetching \(url) failed with HTTP \(status) (\(hint))", retryable: retryable))
    }
    guard let body = result.body, result.body_length > 0 else {
      return .failure(
        ImageFetchError(.empty, "the server returned an empty body for \(url)", retryable: false))
    }
    return .success([UInt8](UnsafeBufferPointer(start: body, count: result.body_length)))
  }

  /// Maps libcurl result codes (curl/curl.h) to what they mean for a job.
  private static func classifyCurl(code: Int32, message: String, url: String) -> ImageFetchError {
    switch code {
    case 28:  // CURLE_OPERATION_TIMEDOUT
      return ImageFetchError(
        .timeout, "fetching \(url) timed out (\(message)); the job will be retried", retryable: true
      )
    case 6, 7, 52, 55, 56, 35:  // resolve, connect, empty reply, send, receive, TLS connect
      return ImageFetchError(.network, "cannot fetch \(url): \(message)", retryable: true)
    case 1, 3:  // unsupported protocol, malformed URL
      return ImageFetchError(
        .unsupportedSource, "cannot fetch \(url): \(message); check the URL", retryable: false)
    case 63:  // CURLE_FILESIZE_EXCEEDED
      return ImageFetchError(.tooLarge, "image at \(url) is over the size limit", retryable: false)
    default:
      return ImageFetchError(
        .network, "cannot fetch \(url): \(message) (libcurl error \(code))", retryable: true)
    }
  }
}

/// A continuation resumed once: by whichever of a reader thread and its deadline comes first.
final class ResumeOnce<T: Sendable>: Sendable {
  private let slot = Mutex<CheckedContinuation<T, Never>?>(nil)

  func set(_ continuation: CheckedContinuation<T, Never>) {
    slot.withLock { $0 = continuation }
  }

  func resume(returning value: T) {
    let continuation = slot.withLock { slot -> CheckedContinuation<T, Never>? in
      defer { slot = nil }
      return slot
    }
    continuation?.resume(returning: value)
  }
}
