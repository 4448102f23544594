import Foundation
import PostgresTesting
import Testing
import TrolleyWorkers

@Suite struct ImageFetcherTests {
  private func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "trolley-fetch-\(UUID().uuidString)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func readsLocalPathAndFileURL() async throws {
    let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]
    let path = try temporaryFile(bytes)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fetcher = ImageFetcher(policy: .unrestricted)
    #expect(try await fetcher.fetch(path) == bytes)
    #expect(try await fetcher.fetch("file://" + path) == bytes)
  }

  @Test func missingEmptyAndOversizedLocalFilesArePermanent() async throws {
    var policy = ImageFetcher.Policy.unrestricted
    policy.maxBytes = 8
    let fetcher = ImageFetcher(policy: policy)
    await #expect(throws: ImageFetchError(.notFound, "", retryable: false)) {
      try await fetcher.fetch("/nonexistent/trolley/image.jpg")
    }
    let empty = try temporaryFile([])
    defer { try? FileManager.default.removeItem(atPath: empty) }
    await #expect(throws: ImageFetchError(.empty, "", retryable: false)) {
      try await fetcher.fetch(empty)
    }
    let big = try temporaryFile([UInt8](repeating: 7, count: 9))
    defer { try? FileManager.default.removeItem(atPath: big) }
    do {
      _ = try await fetcher.fetch(big)
      Issue.record("an oversized file was accepted")
    } catch let error as ImageFetchError {
      #expect(error.code == .tooLarge)
      #expect(!error.isRetryable)
      #expect(error.message.contains(big))
    }
    await #expect(throws: ImageFetchError(.unsupportedSource, "", retryable: false)) {
      try await fetcher.fetch("ftp://example.invalid/a.jpg")
    }
  }

  @Test func downloadsOverHTTPAndClassifiesStatuses() async throws {
    let server = try LoopbackHTTPServer()
    defer { server.stop() }
    let body = [UInt8]((0..<5000).map { UInt8($0 % 251) })
    server.serve("/ok.jpg", .init(status: 200, body: body))
    server.serve("/gone.jpg", .init(status: 404))
    server.serve("/flaky.jpg", .init(status: 503))
    var policy = ImageFetcher.Policy.unrestricted
    policy.attempts = 2
    policy.retryDelay = .milliseconds(10)
    let fetcher = ImageFetcher(policy: policy)
    #expect(try await fetcher.fetch(server.url("/ok.jpg")) == body)
    do {
      _ = try await fetcher.fetch(server.url("/gone.jpg"))
      Issue.record("404 was accepted")
    } catch let error as ImageFetchError {
      #expect(error.code == .notFound && !error.isRetryable)
    }
    do {
      _ = try await fetcher.fetch(server.url("/flaky.jpg"))
      Issue.record("503 was accepted")
    } catch let error as ImageFetchError {
      #expect(error.code == .httpStatus && error.isRetryable)
    }
    #expect(server.hitCount("/flaky.jpg") == 2, "a transient failure is retried in process")
    #expect(server.hitCount("/gone.jpg") == 1, "a permanent failure is not retried")
  }

  @Test func slowServerTimesOutAsRetryable() async throws {
    let server = try LoopbackHTTPServer()
    defer { server.stop() }
    server.serve("/slow.jpg", .init(status: 200, body: [1, 2, 3], stallBeforeBody: .seconds(4)))
    var policy = ImageFetcher.Policy.unrestricted
    policy.attempts = 1
    policy.stallTimeout = .seconds(1)
    policy.totalTimeout = .seconds(2)
    let fetcher = ImageFetcher(policy: policy)
    do {
      _ = try await fetcher.fetch(server.url("/slow.jpg"))
      Issue.record("a stalled download succeeded")
    } catch let error as ImageFetchError {
      #expect(error.code == .timeout && error.isRetryable)
    }
  }

  @Test func refusedConnectionIsRetryableNetworkError() async throws {
    // Bind then close a listener to get a loopback port that refuses connections.
    let server = try LoopbackHTTPServer()
    let url = server.url("/x.jpg")
    server.stop()
    var policy = ImageFetcher.Policy.unrestricted
    policy.attempts = 1
    do {
      _ = try await ImageFetcher(policy: policy).fetch(url)
      Issue.record("a refused connection succeeded")
    } catch let error as ImageFetchError {
      #expect(error.code == .network && error.isRetryable)
    }
  }
}
