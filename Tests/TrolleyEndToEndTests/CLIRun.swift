import Foundation
import TestFixtures
import Testing

/// The result of running the `trolley` binary once.
struct CLIRun {
  var status: Int32
  var stdout: String
  var stderr: String

  /// Standard output parsed as one JSON value.
  func json() throws -> Any {
    try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
  }

  /// Standard output as JSON Lines.
  func jsonLines() throws -> [[String: Any]] {
    try stdout.split(separator: "\n").map { line in
      try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
  }
}

/// Runs the real `trolley` binary built next to the test bundle.
enum TrolleyBinary {
  /// `$TROLLEY_BINARY`, else `trolley` beside the running test executable, else the debug build.
  static var path: String {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["TROLLEY_BINARY"], !path.isEmpty { return path }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var folder = executable.deletingLastPathComponent()
    // macOS-style bundles put the executable under Contents/MacOS.
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("trolley").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/trolley").path
  }

  /// Runs `trolley arguments...` with `environment` added to a clean one and waits for it.
  static func run(
    _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
    currentDirectory: String? = nil
  ) throws -> CLIRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var base = ProcessInfo.processInfo.environment
    // The test's own database settings must not leak in: each test names its database.
    for name in ["TROLLEY_DATABASE_URL", "DATABASE_URL", "PGHOST", "PGDATABASE", "TROLLEY_CONFIG"] {
      base[name] = nil
    }
    base["TROLLEY_HOME"] = NSTemporaryDirectory() + "trolley-e2e-home-none"
    process.environment = base.merging(environment) { $1 }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe()
    let err = Pipe()
    let stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    // Read both pipes while the process runs, so a large output cannot block it.
    let outData = Locked(Data())
    let errData = Locked(Data())
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
      group.enter()
      DispatchQueue.global().async {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        sink.set(data)
        group.leave()
      }
    }
    process.waitUntilExit()
    group.wait()
    return CLIRun(
      status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
      stderr: String(decoding: errData.get(), as: UTF8.self))
  }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
  private var value: Value
  private let lock = NSLock()
  init(_ value: Value) { self.value = value }
  func get() -> Value { lock.withLock { value } }
  func set(_ newValue: Value) { lock.withLock { value = newValue } }
}

/// A fresh folder for one end-to-end test, removed afterwards (the shared test folder type).
typealias Scratch = TemporaryFolder
