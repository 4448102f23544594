import Foundation

/// The PostgreSQL server programs (`initdb`, `pg_ctl`) a local cluster runs.
///
/// Found, in order: `$TROLLEY_PG_BINDIR`; `pg_config --bindir` (if it holds `initdb`); the
/// newest `/usr/lib/postgresql/*/bin` (Debian's layout); `initdb` on `PATH`.
struct ServerBinaries: Sendable {
  let directory: URL

  var initdb: URL { directory.appendingPathComponent("initdb") }
  var pgCtl: URL { directory.appendingPathComponent("pg_ctl") }

  /// Finds the binaries; `version` (the data directory's PG_VERSION) picks a matching Debian
  /// directory when several are installed.
  static func locate(version: String? = nil) throws -> ServerBinaries {
    let fileManager = FileManager.default
    func usable(_ path: String) -> Bool { fileManager.isExecutableFile(atPath: path + "/initdb") }
    var candidates: [String] = []
    if let override = ProcessInfo.processInfo.environment["TROLLEY_PG_BINDIR"], !override.isEmpty {
      candidates.append(override)
    }
    if let version { candidates.append("/usr/lib/postgresql/\(version)/bin") }
    if let bindir = try? ProcessRunner.run(executable: "pg_config", arguments: ["--bindir"]).output
    {
      candidates.append(bindir.trimmingWhitespace())
    }
    let debian = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
    for entry in debian.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
      candidates.append("/usr/lib/postgresql/\(entry)/bin")
    }
    for entry in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
      candidates.append(String(entry))
    }
    guard let found = candidates.first(where: usable) else {
      throw PostgresError(
        .cluster,
        "Cannot find the PostgreSQL server programs (initdb, pg_ctl): install them (Ops/setup does: apt-get install postgresql), or set TROLLEY_PG_BINDIR"
      )
    }
    return ServerBinaries(directory: URL(fileURLWithPath: found))
  }
}
