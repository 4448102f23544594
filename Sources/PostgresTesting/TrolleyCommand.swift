import Dispatch
public import Foundation
import Postgres

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the built `trolley` binary for end-to-end tests.
///
/// ```swift
/// try await withTestDatabase { database in
///   let result = try await TrolleyCommand.run(["migrate", "--status"], database: database)
///   #expect(result.exitCode == 0)
///   #expect(result.standardOutput.contains("Up to date"))
/// }
/// ```
/// The binary is `$TROLLEY_BINARY` if set, else `trolley` next to the test runner
/// (`.build/debug/`), else `<repo>/.build/debug/trolley`; build it first (`swift build`, which
/// `Ops/test` does). The child gets this process's environment with the database variables
/// removed, then `TROLLEY_DATABASE_URL` pointing at `database` (when given), then `environment`.
public enum TrolleyCommand {
  /// What a run produced.
  public struct Result: Sendable {
    public let exitCode: Int32
    public let standardOutput: String
    public let standardError: String
  }

  /// The binary the tests run.
  /// - Throws: `PostgresError.Code.invalidConfiguration` if it is not built.
  public static func binary() throws -> URL {
    var candidates: [URL] = []
    if let override = ProcessInfo.processInfo.environment["TROLLEY_BINARY"], !override.isEmpty {
      candidates.append(URL(fileURLWithPath: override))
    }
    if let runner = Bundle.main.executableURL {
      candidates.append(runner.deletingLastPathComponent().appendingPathComponent("trolley"))
    }
    candidates.append(
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("trolley"))
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent()
    candidates.append(repository.appendingPathComponent(".build/debug/trolley"))
    guard
      let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
    else {
      throw PostgresError(
        .invalidConfiguration,
        "The trolley binary is not built (looked in \(candidates.map(\.path).joined(separator: ", "))): run `swift build` first or set TROLLEY_BINARY"
      )
    }
    return found
  }

  /// Runs `trolley` with `arguments` and waits for it (on a thread of its own, not the
  /// cooperative pool).
  /// - Parameters:
  ///   - arguments: the command line after `trolley`.
  ///   - database: the test database to point it at (`TROLLEY_DATABASE_URL`), if any.
  ///   - environment: extra variables, applied last.
  ///   - standardInput: bytes to feed on stdin (default none: /dev/null).
  public static func run(
    _ arguments: [String], database: TestDatabase? = nil, environment: [String: String] = [:],
    standardInput: Data? = nil
  ) async throws -> Result {
    var childEnvironment = ProcessInfo.processInfo.environment
    for key in Array(childEnvironment.keys)
    where key.hasPrefix("PG") || key == "DATABASE_URL" || key == "TROLLEY_DATABASE_URL"
      || key == TestServer.environmentVariable
    {
      childEnvironment[key] = nil
    }
    if let database {
      childEnvironment["TROLLEY_DATABASE_URL"] = try database.configuration
        .resolvedConnectionString()
    }
    childEnvironment.merge(environment) { _, new in new }
    let argv = [try binary().path] + arguments
    let finalEnvironment = childEnvironment
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Swift.Result {
            try spawnAndWait(argv, environment: finalEnvironment, standardInput: standardInput)
          })
      }
    }
  }

  private static func spawnAndWait(
    _ argv: [String], environment: [String: String], standardInput: Data?
  ) throws -> Result {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-e2e-\(UUID().uuidString)"
    ).path
    let (inputPath, outputPath, errorPath) = (base + ".in", base + ".out", base + ".err")
    defer { for path in [inputPath, outputPath, errorPath] { unlink(path) } }
    _ = FileManager.default.createFile(atPath: inputPath, contents: standardInput ?? Data())
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var pid: pid_t = 0
    let spawned = withCStrings(argv) { argvPointers in
      withCStrings(environment.map { "\($0.key)=\($0.value)" }) { environmentPointers in
        posix_spawn(&pid, argv[0], &actions, nil, argvPointers, environmentPointers)
      }
    }
    guard spawned == 0 else {
      throw PostgresError(.invalidConfiguration, "Cannot run \(argv[0]) (error \(spawned))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Result(
      exitCode: exitCode,
      standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
      standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
  }

  private static func withCStrings<R>(
    _ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R
  ) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies + [nil])
  }
}
