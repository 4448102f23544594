import Foundation
import PostgresTesting
import Testing

/// `trolley model fetch` against a loopback server that answers the hub's endpoints: the file
/// list (`/api/models/{repo}/revision/{rev}?blobs=true`) and `/{repo}/resolve/{commit}/{file}`
/// (the weights through a redirect to a "CDN" path that honours Range, as the real hub does).
@Suite struct ModelFetchCommandTests {
  static let commit = "0123456789abcdef0123456789abcdef01234567"
  static let config = Array(#"{"architectures": ["TroL"]}"#.utf8)
  static let weights: [UInt8] = (0..<300_000).map {
    UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13)
  }

  /// SHA-256 by coreutils, not by our own code.
  static func sha256sum(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "trolley-sha-\(UUID().uuidString)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(64))
  }

  /// A hub serving org/tiny at `commit`; `weightsResponse` answers the CDN path.
  static func hub(weightsResponse: LoopbackHTTPServer.Response? = nil) throws -> LoopbackHTTPServer
  {
    let server = try LoopbackHTTPServer()
    let sha = try sha256sum(weights)
    let api = """
      {"id": "org/tiny", "sha": "\(commit)", "siblings": [
        {"rfilename": ".gitattributes", "size": 12, "blobId": "aa11"},
        {"rfilename": "config.json", "size": \(config.count), "blobId": "bb22"},
        {"rfilename": "model.safetensors", "size": \(weights.count), "blobId": "cc33",
         "lfs": {"sha256": "\(sha)", "size": \(weights.count), "pointerSize": 132}}]}
      """
    server.serve("/api/models/org/tiny/revision/main?blobs=true", .init(body: Array(api.utf8)))
    server.serve("/org/tiny/resolve/\(commit)/config.json", .init(body: config))
    server.serve(
      "/org/tiny/resolve/\(commit)/model.safetensors",
      .init(status: 302, headers: ["Location": server.url("/cdn/weights")]))
    server.serve("/cdn/weights", weightsResponse ?? .init(body: weights, acceptsRanges: true))
    return server
  }

  static func environment(_ server: LoopbackHTTPServer, home: String) -> [String: String] {
    ["HF_ENDPOINT": server.url(""), "HF_TOKEN": "hf_secret", "HF_HOME": home]
  }

  static func scratch() throws -> String {
    let path = NSTemporaryDirectory() + "trolley-fetch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Runs `body` with a hub (`weightsResponse` answering the CDN path) and a scratch folder, and
  /// stops and removes them after.
  static func withHub(
    weightsResponse: LoopbackHTTPServer.Response? = nil,
    _ body: (_ server: LoopbackHTTPServer, _ root: String) throws -> Void
  ) throws {
    let server = try hub(weightsResponse: weightsResponse)
    defer { server.stop() }
    let root = try scratch()
    defer { try? FileManager.default.removeItem(atPath: root) }
    try body(server, root)
  }

  @Test func fetchesIntoAFolderWithTokenAndRecordsTheSource() throws {
    try Self.withHub { server, root in
      let run = try TrolleyBinary.run(
        ["model", "fetch", "org/tiny", "--out", root + "/m"],
        environment: Self.environment(server, home: root + "/hf"))
      #expect(run.status == 0, "\(run.stderr)")
      #expect(run.stdout.contains("Fetched org/tiny at 0123456789ab"), "\(run.stdout)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: root + "/m/model.safetensors"))
          == Data(Self.weights))
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: root + "/m/config.json")) == Data(Self.config))
      let source = try String(contentsOfFile: root + "/m/.trolley-source.json", encoding: .utf8)
      #expect(source.contains(#""repo": "org/tiny""#) && source.contains(Self.commit))
      let api = server.requests("/api/models/org/tiny/revision/main?blobs=true")
      #expect(api.first?.contains("Authorization: Bearer hf_secret") == true, "\(api)")
      #expect(!FileManager.default.fileExists(atPath: root + "/m/.gitattributes"))
    }
  }

  @Test func aDroppedDownloadResumesWithARangeRequest() throws {
    try Self.withHub(
      weightsResponse: .init(body: Self.weights, acceptsRanges: true, truncateAfter: 100_000)
    ) { server, root in
      let arguments = ["model", "fetch", "org/tiny", "--out", root + "/m"]
      let environment = Self.environment(server, home: root + "/hf")
      let dropped = try TrolleyBinary.run(arguments, environment: environment)
      #expect(dropped.status == 1)
      let partial = root + "/m/model.safetensors.incomplete"
      let kept = try FileManager.default.attributesOfItem(atPath: partial)[.size] as? NSNumber
      #expect(kept?.intValue == 100_000, "the partial file is kept for the next run")

      server.serve("/cdn/weights", .init(body: Self.weights, acceptsRanges: true))
      let resumed = try TrolleyBinary.run(arguments, environment: environment)
      #expect(resumed.status == 0, "\(resumed.stderr)")
      let last = server.requests("/cdn/weights").last ?? ""
      #expect(last.contains("Range: bytes=100000-"), "\(last)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: root + "/m/model.safetensors"))
          == Data(Self.weights))
      #expect(!FileManager.default.fileExists(atPath: partial))
    }
  }

  @Test func aChecksumMismatchIsRefusedAndRemoved() throws {
    var corrupt = Self.weights
    corrupt[1234] ^= 0xFF
    try Self.withHub(weightsResponse: .init(body: corrupt)) { server, root in
      let run = try TrolleyBinary.run(
        ["model", "fetch", "org/tiny", "--out", root + "/m"],
        environment: Self.environment(server, home: root + "/hf"))
      #expect(run.status == 1)
      #expect(run.stderr.contains("does not match the hub's"), "\(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: root + "/m/model.safetensors"))
      #expect(!FileManager.default.fileExists(atPath: root + "/m/model.safetensors.incomplete"))
    }
  }

  /// Without --out the files land in the hub cache layout the hub's own tools use.
  @Test func fetchesIntoTheHubCache() throws {
    try Self.withHub { server, root in
      let run = try TrolleyBinary.run(
        ["model", "fetch", "org/tiny"], environment: Self.environment(server, home: root + "/hf"))
      #expect(run.status == 0, "\(run.stderr)")
      let repo = root + "/hf/hub/models--org--tiny"
      let snapshot = repo + "/snapshots/" + Self.commit
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: snapshot + "/model.safetensors"))
          == Data(Self.weights))
      let link = try FileManager.default.destinationOfSymbolicLink(
        atPath: snapshot + "/config.json")
      #expect(link == "../../blobs/bb22")
      #expect(try String(contentsOfFile: repo + "/refs/main", encoding: .utf8) == Self.commit)
    }
  }

  @Test func anUnreachableHubSaysWhichFilesToPlaceWhere() throws {
    let root = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let run = try TrolleyBinary.run(
      ["model", "fetch", "BK-Lee/TroL-1.8B", "--out", root + "/m"],
      environment: ["HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": root + "/hf"])
    #expect(run.status == 1)
    for words in [
      "cannot reach the hub", "model.safetensors", "trol_gating.pt", "place them in \(root)/m",
    ] {
      #expect(run.stderr.contains(words), "\(words): \(run.stderr)")
    }
    let bad = try TrolleyBinary.run(["model", "fetch", "not-a-repo"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("ORG/NAME"))
  }
}
