import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a program to completion and captures its output.
///
/// Uses posix_spawn and waitpid rather than Foundation's `Process`, whose wait never returns when
/// the program leaves a daemon behind (as `pg_ctl start` does) that inherited its bookkeeping
/// descriptor. Output goes through a temporary file, so the daemon cannot hold a pipe open either.
enum ProcessRunner {
  struct Outcome {
    let status: Int32
    let output: String
  }

  /// Runs `executable` (a path, or a name looked up on PATH), optionally as another user via
  /// `runuser` (only when we are root), in `workingDirectory`.
  static func run(
    executable: String, arguments: [String], asUser user: String? = nil,
    workingDirectory: URL? = nil
  ) throws -> Outcome {
    var argv: [String]
    if let user {
      let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
      }
      guard let runuser else {
        throw PostgresError(.cluster, "runuser (util-linux) is needed to run PostgreSQL as \(user)")
      }
      argv = [runuser, "-u", user, "--", executable] + arguments
    } else if executable.hasPrefix("/") {
      argv = [executable] + arguments
    } else {
      argv = ["/usr/bin/env", executable] + arguments
    }
    if let workingDirectory {
      // posix_spawn has no portable chdir action: go through sh, passing paths as arguments.
      argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", workingDirectory.path] + argv
    }
    var environment = ProcessInfo.processInfo.environment
    // The server and its tools must not pick up a client's connection settings or locale.
    for key in environment.keys where key.hasPrefix("PG") { environment[key] = nil }
    environment["LC_ALL"] = "C"
    let capture = FileManager.default.temporaryDirectory
      .appendingPathComponent("trolley-run-\(getpid())-\(UUID().uuidString)").path
    defer { unlink(capture) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, capture, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)

    var pid: pid_t = 0
    let spawned = withCStringArray(argv) { argvPointers in
      withCStringArray(environment.map { "\($0.key)=\($0.value)" }) { environmentPointers in
        posix_spawn(
          &pid, argv[0], &actions, nil,
          argvPointers.map { $0.map { UnsafeMutablePointer(mutating: $0) } },
          environmentPointers.map { $0.map { UnsafeMutablePointer(mutating: $0) } })
      }
    }
    guard spawned == 0 else {
      throw PostgresError(.cluster, "Cannot run \(executable) (error \(spawned))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
      guard errno == EINTR else {
        throw PostgresError(.cluster, "Waiting for \(executable) failed (errno \(errno))")
      }
    }
    let output = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Outcome(status: exitStatus, output: output)
  }
}
