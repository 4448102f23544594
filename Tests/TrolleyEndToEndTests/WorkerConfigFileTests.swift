import Foundation
import JobQueue
import Postgres
import PostgresTesting
import TestFixtures
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 14, item 9: `trolley worker` reads the configuration file (model, batch size, queues,
/// kinds, metrics address and port, image roots) and its flags override the file.
@Suite(.serialized) struct WorkerConfigFileTests {
  static func state(_ id: Int64?, _ store: JobStore) async throws -> String? {
    guard let id else { return nil }
    return try await store.jobGet(id: id)?.state.rawValue
  }

  @Test func queuesAndKindsComeFromTheFileAndFlagsOverrideThem() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let file = try scratch.write(
        "config.toml",
        """
        # what this worker runs
        kinds = 'noop'
        queues = "from-file"
        batch_size = 2
        """)
      let inFileQueue = try await db.store.jobInsert(.init(queue: "from-file", kind: "noop")).id
      let inDefault = try await db.store.jobInsert(.init(kind: "noop")).id
      let sleeper = try await db.store.jobInsert(.init(queue: "from-file", kind: "sleep")).id

      let first = try db.trolley("worker", "--config", file, "--once", "--log-level", "warning")
      #expect(first.status == 0, "\(first.stderr)")
      #expect(try await Self.state(inFileQueue, db.store) == "succeeded")
      // The file's queues and kinds: nothing else was claimed.
      #expect(try await Self.state(inDefault, db.store) == "available")
      #expect(try await Self.state(sleeper, db.store) == "available")

      let second = try db.trolley(
        "worker", "--config", file, "--queues", "default", "--once", "--log-level", "warning")
      #expect(second.status == 0, "\(second.stderr)")
      #expect(try await Self.state(inDefault, db.store) == "succeeded")
      #expect(try await Self.state(sleeper, db.store) == "available")
    }
  }

  @Test func badValuesInTheFileAreNamedAndAFlagOverridesThem() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let badBatch = try scratch.write("batch.toml", "kinds = \"noop\"\nbatch_size = 0\n")
      let run = try db.trolley("worker", "--config", badBatch, "--once")
      #expect(run.status == 2, "\(run.stderr)")
      #expect(
        run.stderr.contains("batch_size") && run.stderr.contains("batch.toml"), "\(run.stderr)")
      let overridden = try db.trolley(
        "worker", "--config", badBatch, "--batch-size", "3", "--once", "--log-level", "warning")
      #expect(overridden.status == 0, "\(overridden.stderr)")

      let badAddress = try scratch.write(
        "address.toml", "kinds = \"noop\"\nmetrics_address = \"nowhere\"\n")
      let address = try db.trolley("worker", "--config", badAddress, "--once")
      #expect(address.status == 2, "\(address.stderr)")
      #expect(address.stderr.contains("nowhere"), "\(address.stderr)")

      // The model named by the file is the one the worker tries to load.
      let missing = scratch.path + "/no-such-model"
      let model = try scratch.write("model.toml", "model = '\(missing)'\n")
      let load = try db.trolley("worker", "--config", model, "--once")
      #expect(load.status != 0)
      #expect(load.stderr.contains(missing), "\(load.stderr)")

      let missingRoot = scratch.path + "/no-such-root"
      let roots = try scratch.write(
        "roots.toml", "kinds = \"noop\"\nimage_roots = \"\(missingRoot)\"\n")
      let rootRun = try db.trolley("worker", "--config", roots, "--once")
      #expect(rootRun.status == 2)
      #expect(rootRun.stderr.contains(missingRoot), "\(rootRun.stderr)")
    }
  }

  @Test func metricsAreServedOnThePortTheFileNames() async throws {
    try await withTestDatabase { database in
      let url = try database.configuration.resolvedConnectionString()
      // A port that was free a moment ago.
      let probe = try LoopbackHTTPServer()
      let port = probe.port
      probe.stop()
      let scratch = try Scratch()
      let file = try scratch.write(
        "config.toml",
        "kinds = \"noop\"\nmetrics_port = \(port)\nmetrics_address = \"127.0.0.1\"\n")
      let worker = try WorkerProcess(databaseURL: url, arguments: ["--config", file])
      defer { worker.stop() }
      try await eventually("the worker serves /healthz on port \(port) from the file") {
        Self.get(port: port, path: "/healthz")?.hasPrefix("ok") == true
      }
    }
  }

  /// The body of `GET path` on 127.0.0.1:`port` when it answers 200, else nil (plain sockets:
  /// the test must not depend on FoundationNetworking).
  static func get(port: UInt16, path: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count
    else { return nil }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count <= 0 { break }
      response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/1.0 200") || text.hasPrefix("HTTP/1.1 200"),
      let split = text.range(of: "\r\n\r\n")
    else { return nil }
    return String(text[split.upperBound...])
  }
}
