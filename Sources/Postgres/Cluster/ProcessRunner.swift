import Foundation

/// Runs a program to completion and captures its output (through a temporary file, so a server
/// it starts in the background cannot hold a pipe open).
enum ProcessRunner {
  struct Outcome {
    let status: Int32
    let output: String
  }

  /// Runs `executable` (a path, or a name looked up on PATH), optionally as another user via
  /// `runuser` (only when we are root).
  static func run(
    executable: String, arguments: [String], asUser user: String? = nil, workingDirectory: URL? = nil
  ) throws -> Outcome {
    let process = Process()
    if let user {
      let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
      }
      guard let runuser else {
        throw PostgresError(.cluster, "runuser (util-linux) is needed to run PostgreSQL as \(user)")
      }
      process.executableURL = URL(fileURLWithPath: runuser)
      process.arguments = ["-u", user, "--", executable] + arguments
    } else if executable.hasPrefix("/") {
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [executable] + arguments
    }
    if let workingDirectory { process.currentDirectoryURL = workingDirectory }
    var environment = ProcessInfo.processInfo.environment
    // The server and its tools must not pick up a client's connection settings or locale.
    for key in environment.keys where key.hasPrefix("PG") { environment[key] = nil }
    environment["LC_ALL"] = "C"
    process.environment = environment
    let capture = FileManager.default.temporaryDirectory
      .appendingPathComponent("trolley-run-\(getpid())-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: capture.path, contents: nil) else {
      throw PostgresError(.cluster, "Cannot create a temporary file in \(capture.deletingLastPathComponent().path)")
    }
    defer { try? FileManager.default.removeItem(at: capture) }
    let handle = try FileHandle(forWritingTo: capture)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      try? handle.close()
      throw PostgresError(.cluster, "Cannot run \(executable): \(error.localizedDescription)")
    }
    process.waitUntilExit()
    try? handle.close()
    let output = (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
    return Outcome(status: process.terminationStatus, output: output)
  }
}
