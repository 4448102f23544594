import Foundation
import PostgresTesting
import Testing

@testable import TrolleyWorkers

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 13, items 8 and 9: a job's image source cannot freeze the worker, read outside the
/// worker's image roots, or reach a private address.
@Suite struct ImageSourcePolicyTests {
  final class Folder {
    let path: String
    init() throws {
      path = NSTemporaryDirectory() + "trolley-roots-\(UUID().uuidString)"
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
  }

  static func policy(roots: [String]) -> ImageFetcher.Policy {
    var policy = ImageFetcher.Policy()
    policy.localRoots = roots
    return policy
  }

  static func expectRefused(
    _ fetcher: ImageFetcher, _ source: String, _ code: ImageFetchError.Code = .notAllowed
  ) async {
    do {
      _ = try await fetcher.fetch(source)
      Issue.record("\(source) was read")
    } catch let error as ImageFetchError {
      #expect(error.code == code, "\(source): \(error.message)")
      #expect(!error.isRetryable)
    } catch {
      Issue.record("\(source): unexpected \(error)")
    }
  }

  @Test func aFifoOrADeviceIsRefusedInsteadOfBlocking() async throws {
    let folder = try Folder()
    let fifo = folder.path + "/image.jpg"
    try #require(mkfifo(fifo, 0o600) == 0)
    let fetcher = ImageFetcher(policy: Self.policy(roots: [folder.path, "/dev", "/proc"]))
    // Opening a FIFO for reading waits for a writer; none ever comes.
    await Self.expectRefused(fetcher, fifo)
    await Self.expectRefused(fetcher, "file://" + fifo)
    await Self.expectRefused(fetcher, "/dev/zero")
  }

  @Test func filesOutsideTheRootsAreRefusedHoweverTheyAreNamed() async throws {
    let inside = try Folder()
    let outside = try Folder()
    let secret = outside.path + "/secret.jpg"
    try Data([0xFF, 0xD8, 0xFF, 1]).write(to: URL(fileURLWithPath: secret))
    let allowed = inside.path + "/ok.jpg"
    try Data([0xFF, 0xD8, 0xFF, 2]).write(to: URL(fileURLWithPath: allowed))
    try FileManager.default.createSymbolicLink(
      atPath: inside.path + "/link.jpg", withDestinationPath: secret)
    let fetcher = ImageFetcher(policy: Self.policy(roots: [inside.path]))
    #expect(try await fetcher.fetch(allowed) == [0xFF, 0xD8, 0xFF, 2])
    #expect(try await fetcher.fetch("file://" + allowed) == [0xFF, 0xD8, 0xFF, 2])
    await Self.expectRefused(fetcher, secret)
    await Self.expectRefused(fetcher, "file://" + secret)
    await Self.expectRefused(fetcher, inside.path + "/link.jpg")
    await Self.expectRefused(
      fetcher, inside.path + "/../" + (outside.path as NSString).lastPathComponent + "/secret.jpg")
    await Self.expectRefused(fetcher, "/etc/passwd")
    // By default a worker reads no local file at all.
    await Self.expectRefused(ImageFetcher(), allowed)
  }

  @Test func privateAddressesAreRefusedUnlessAllowed() async throws {
    let server = try LoopbackHTTPServer()
    defer { server.stop() }
    server.serve("/cat.jpg", .init(status: 200, body: [1, 2, 3]))
    let strict = ImageFetcher()
    await Self.expectRefused(strict, server.url("/cat.jpg"))
    await Self.expectRefused(strict, "http://localhost:\(server.port)/cat.jpg")
    await Self.expectRefused(strict, "http://[::ffff:127.0.0.1]:\(server.port)/cat.jpg")
    await Self.expectRefused(strict, "http://169.254.169.254/latest/meta-data/")
    var open = ImageFetcher.Policy()
    open.allowPrivateAddresses = true
    #expect(try await ImageFetcher(policy: open).fetch(server.url("/cat.jpg")) == [1, 2, 3])
  }

  /// A public server (a loopback server exempted as if it were public) that redirects to a
  /// private address: the redirect's connection is refused, the private server never sees a
  /// request, and `--allow-private-urls` follows it.
  @Test func aRedirectToAPrivateAddressIsRefusedUnlessAllowed() async throws {
    let privateServer = try LoopbackHTTPServer()
    defer { privateServer.stop() }
    privateServer.serve("/secret", .init(status: 200, body: [7, 7, 7]))
    let publicServer = try LoopbackHTTPServer()
    defer { publicServer.stop() }
    publicServer.serve("/cat.jpg", .init(status: 200, body: [1, 2, 3]))
    for (path, status) in [("/moved", 302), ("/see-other", 303), ("/permanent", 308)] {
      publicServer.serve(
        path, .init(status: status, headers: ["Location": privateServer.url("/secret")]))
    }
    publicServer.serve(
      "/to-localhost",
      .init(status: 301, headers: ["Location": "http://localhost:\(privateServer.port)/secret"]))
    publicServer.serve(
      "/twice", .init(status: 302, headers: ["Location": publicServer.url("/moved")]))

    var strict = ImageFetcher.Policy()
    strict.exemptLoopbackPort = Int(publicServer.port)
    let fetcher = ImageFetcher(policy: strict)
    // The exemption reaches the stand-in public server and nothing else.
    #expect(try await fetcher.fetch(publicServer.url("/cat.jpg")) == [1, 2, 3])
    for path in ["/moved", "/see-other", "/permanent", "/to-localhost", "/twice"] {
      do {
        _ = try await fetcher.fetch(publicServer.url(path))
        Issue.record("\(path): the redirect to a private address was followed")
      } catch let error as ImageFetchError {
        #expect(error.code == .notAllowed, "\(path): \(error.message)")
        #expect(!error.isRetryable)
        #expect(error.message.contains("--allow-private-urls"), "\(error.message)")
      }
    }
    #expect(publicServer.hitCount("/moved") == 2)
    #expect(privateServer.hitCount("/secret") == 0)

    var open = strict
    open.allowPrivateAddresses = true
    #expect(try await ImageFetcher(policy: open).fetch(publicServer.url("/moved")) == [7, 7, 7])
    #expect(privateServer.hitCount("/secret") == 1)
  }
}
