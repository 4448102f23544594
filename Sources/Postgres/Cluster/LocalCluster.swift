public import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Trolley's embedded default database: a private PostgreSQL cluster that `trolley` creates and
/// starts itself when no database is configured, listening on a Unix socket only.
///
/// Layout: the cluster lives in `$TROLLEY_HOME/postgres/` (data directory `data/`, socket
/// directory `run/`, server log `postgres.log`), and `$TROLLEY_HOME/postgres.json` records where
/// it is. When run as root, the server runs as the unprivileged `postgres` user (initdb refuses
/// root); if that user cannot reach `$TROLLEY_HOME` (root's home is mode 700), the cluster goes
/// to `/var/lib/trolley/<hash of the home path>/` instead, and `postgres.json` says so. The
/// socket directory moves to `/tmp/trolley-<hash>` when the path would exceed the Unix limit.
///
/// It only ever touches a cluster whose directory carries the identity recorded in
/// `postgres.json`; a directory it did not create is refused, never reused or removed. A stale
/// `postmaster.pid` left by a crash (`kill -9`) is handled by the server's own recovery; one
/// naming a live process that is not PostgreSQL is removed.
///
/// ```swift
/// let cluster = LocalCluster(home: LocalCluster.defaultHome())
/// let configuration = try cluster.start()      // creates it on first use; idempotent
/// print(try cluster.url())                     // postgresql:///trolley?host=...&user=trolley
/// ```
public final class LocalCluster: Sendable {
  /// Trolley's data folder (`$TROLLEY_HOME`).
  public let home: URL
  /// The database `trolley` uses inside the cluster.
  public static let databaseName = "trolley"
  /// The cluster's superuser (trust authentication on the owner-only socket).
  public static let superuser = "trolley"
  /// The port number, which on a Unix-socket-only server just names the socket file.
  static let port = 5432

  /// Whether a newly created cluster syncs to disk. False (from `TROLLEY_DB_FSYNC=off`, or the
  /// initializer) is for throw-away clusters such as the test server: `initdb --no-sync` and
  /// `fsync = off`, so a power loss can corrupt it. Commits stay synchronous, so a crash of the
  /// server alone (even `kill -9`) loses nothing that was committed.
  public let isDurable: Bool

  /// Creates a handle; nothing is read or created until a method is called.
  /// - Parameters:
  ///   - home: Trolley's data folder.
  ///   - durable: whether a cluster created by this handle syncs to disk; nil reads
  ///     `TROLLEY_DB_FSYNC` (`off` means no, anything else yes). Ignored for existing clusters.
  public init(home: URL, durable: Bool? = nil) {
    self.home = home
    self.isDurable = durable ?? (ProcessInfo.processInfo.environment["TROLLEY_DB_FSYNC"] != "off")
  }

  /// `$TROLLEY_HOME`, else `~/.local/share/trolley`.
  public static func defaultHome(
    _ environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> URL {
    if let home = environment["TROLLEY_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
    let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return URL(fileURLWithPath: userHome).appendingPathComponent(".local/share/trolley")
  }

  /// What `status()` reports.
  public struct Status: Sendable, Hashable {
    /// Whether the cluster has been created.
    public let exists: Bool
    /// Whether its server is running (and accepting connections).
    public let isRunning: Bool
    /// The postmaster's process id, when running.
    public let pid: Int32?
    /// The data directory (nil if not created).
    public let dataDirectory: String?
    /// The socket directory (nil if not created).
    public let socketDirectory: String?
    /// The connection URI (nil if not created).
    public let url: String?
    /// The server log (nil if not created).
    public let logFile: String?
  }

  // MARK: - Public operations

  /// Creates the cluster if needed, starts it if it is not running, and makes sure the
  /// `trolley` database exists.
  /// - Returns: settings that connect to the `trolley` database.
  /// - Throws: `PostgresError.Code.cluster` naming what failed and the log to read.
  @discardableResult
  public func start() throws -> PostgresConfiguration {
    try withLock {
      let layout = try loadOrCreateLayout()
      if try !isAccepting(layout) {
        try startServer(layout)
      }
      try ensureDatabase(layout)
      return layout.configuration(database: Self.databaseName)
    }
  }

  /// Stops the server (fast shutdown) if it is running.
  /// - Returns: true if a running server was stopped.
  /// - Throws: `PostgresError.Code.cluster`.
  @discardableResult
  public func stop() throws -> Bool {
    try withLock {
      guard let layout = try loadLayout(), FileManager.default.fileExists(atPath: layout.root)
      else {
        return false
      }
      try layout.verifyOwnership()
      guard try serverPID(layout) != nil else { return false }
      let outcome = try runServerTool(
        layout, layout.binaries().pgCtl.path,
        ["-D", layout.dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
      guard outcome.status == 0 else {
        throw PostgresError(.cluster, "pg_ctl stop failed: \(outcome.output.trimmingWhitespace())")
      }
      return true
    }
  }

  /// Where the cluster is and whether it runs; creates nothing.
  /// - Throws: `PostgresError.Code.cluster` if `postgres.json` is unreadable or points at a
  ///   directory this home did not create.
  public func status() throws -> Status {
    guard let layout = try loadLayout(), FileManager.default.fileExists(atPath: layout.root) else {
      return Status(
        exists: false, isRunning: false, pid: nil, dataDirectory: nil, socketDirectory: nil,
        url: nil, logFile: nil)
    }
    try layout.verifyOwnership()
    let pid = try serverPID(layout)
    let running = try pid != nil && isAccepting(layout)
    return Status(
      exists: true, isRunning: running, pid: running ? pid : nil,
      dataDirectory: layout.dataDirectory,
      socketDirectory: layout.socketDirectory, url: layout.url(database: Self.databaseName),
      logFile: layout.logFile)
  }

  /// The connection URI of the `trolley` database (whether or not the server is running).
  /// - Throws: `PostgresError.Code.cluster` if the cluster was never created.
  public func url() throws -> String {
    guard let layout = try loadLayout() else {
      throw PostgresError(
        .cluster, "No embedded database under \(home.path) yet: run `trolley db start`")
    }
    return layout.url(database: Self.databaseName)
  }

  // MARK: - Layout

  var layoutFile: URL { home.appendingPathComponent("postgres.json") }

  private func loadLayout() throws -> LocalClusterLayout? {
    guard FileManager.default.fileExists(atPath: layoutFile.path) else { return nil }
    guard let data = FileManager.default.contents(atPath: layoutFile.path),
      let layout = try? JSONDecoder().decode(LocalClusterLayout.self, from: data)
    else {
      throw PostgresError(
        .cluster,
        "\(layoutFile.path) is unreadable or malformed; it records where the embedded database lives, so fix or remove it by hand"
      )
    }
    return layout
  }

  private func loadOrCreateLayout() throws -> LocalClusterLayout {
    if let layout = try loadLayout() {
      if !FileManager.default.fileExists(atPath: layout.root) {
        // Recorded but gone (deleted by hand, or a fresh machine): nothing to protect, recreate it.
        try initialize(layout)
        return layout
      }
      try layout.verifyOwnership()
      if !FileManager.default.fileExists(atPath: layout.dataDirectory + "/PG_VERSION") {
        try initialize(layout)
      }
      return layout
    }
    let layout = try planLayout()
    try initialize(layout)
    let data = try JSONEncoder.pretty.encode(layout)
    guard FileManager.default.createFile(atPath: layoutFile.path, contents: data) else {
      throw PostgresError(.cluster, "Cannot write \(layoutFile.path)")
    }
    return layout
  }

  /// Decides where a new cluster goes and as which user it runs.
  private func planLayout() throws -> LocalClusterLayout {
    let isRoot = geteuid() == 0
    let serviceUser: String? = isRoot ? "postgres" : nil
    if let serviceUser, getpwnam(serviceUser) == nil {
      throw PostgresError(
        .cluster,
        "Running as root, the embedded database needs the system user \(serviceUser) (created by Debian's postgresql package; Ops/setup installs it)"
      )
    }
    var root = home.appendingPathComponent("postgres").path
    if let serviceUser {
      let probe = try ProcessRunner.run(
        executable: "/usr/bin/test", arguments: ["-x", home.path], asUser: serviceUser,
        workingDirectory: URL(fileURLWithPath: "/"))
      if probe.status != 0 {
        root = "/var/lib/trolley/\(Self.shortHash(home.standardizedFileURL.path))"
      }
    }
    var socket = root + "/run"
    if (socket + "/.s.PGSQL.\(Self.port)").utf8.count > 100 {
      socket = "/tmp/trolley-\(Self.shortHash(root))"
    }
    return LocalClusterLayout(
      clusterID: UUID().uuidString, root: root, socketDirectory: socket, port: Self.port,
      serviceUser: serviceUser,
      superuser: Self.superuser)
  }

  /// Creates the directories, the identity marker, and runs initdb.
  private func initialize(_ layout: LocalClusterLayout) throws {
    let fileManager = FileManager.default
    for directory in [layout.root, layout.socketDirectory] {
      if fileManager.fileExists(atPath: directory) {
        let contents = (try? fileManager.contentsOfDirectory(atPath: directory)) ?? []
        let marker = layout.root + "/" + LocalClusterLayout.markerName
        if directory == layout.root && !contents.isEmpty && !fileManager.fileExists(atPath: marker)
        {
          throw PostgresError(
            .cluster,
            "\(directory) exists and was not created by this trolley home; refusing to touch it. Move it away or set TROLLEY_HOME elsewhere"
          )
        }
      }
      try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
      try layout.takeOwnership(of: directory)
    }
    let markerPath = layout.root + "/" + LocalClusterLayout.markerName
    if !fileManager.fileExists(atPath: markerPath) {
      guard fileManager.createFile(atPath: markerPath, contents: Data(layout.clusterID.utf8)) else {
        throw PostgresError(.cluster, "Cannot write \(markerPath)")
      }
      try layout.takeOwnership(of: markerPath)
    }
    try layout.verifyOwnership()
    let binaries = try layout.binaries()
    let outcome = try runServerTool(
      layout, binaries.initdb.path,
      [
        "-D", layout.dataDirectory, "-U", layout.superuser, "--auth=trust", "--encoding=UTF8",
        "--locale=C",
        "--no-instructions",
      ] + (isDurable ? [] : ["--no-sync"]))
    guard outcome.status == 0 else {
      throw PostgresError(.cluster, "initdb failed: \(outcome.output.trimmingWhitespace())")
    }
    let settings = """

      # Added by trolley: a private server on a Unix socket only.
      listen_addresses = ''
      unix_socket_directories = '\(layout.socketDirectory)'
      unix_socket_permissions = 0700
      port = \(layout.port)
      max_connections = 300
      \(isDurable ? "" : "fsync = off\nfull_page_writes = off\n")
      """
    let configFile = layout.dataDirectory + "/postgresql.conf"
    guard let handle = FileHandle(forWritingAtPath: configFile) else {
      throw PostgresError(.cluster, "Cannot append to \(configFile)")
    }
    handle.seekToEndOfFile()
    handle.write(Data(settings.utf8))
    handle.closeFile()
  }

  // MARK: - Server

  /// The postmaster's pid if its pid file names a live PostgreSQL process.
  private func serverPID(_ layout: LocalClusterLayout) throws -> Int32? {
    let pidFile = layout.dataDirectory + "/postmaster.pid"
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
      let first = text.split(separator: "\n").first,
      let pid = Int32(String(first).trimmingWhitespace())
    else { return nil }
    return Self.isPostgresProcess(pid) ? pid : nil
  }

  /// Whether a process with this id exists (for tests that wait for a killed server to go).
  public static func isRunningProcess(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 || errno == EPERM else { return false }
    // A zombie (killed, not yet reaped by its parent) is gone for our purposes.
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
      return true
    }
    let state = stat.split(separator: ")").last.map { String($0).trimmingWhitespace() } ?? ""
    return !state.hasPrefix("Z")
  }

  static func isPostgresProcess(_ pid: Int32) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
      return true  // no /proc (macOS): trust kill()
    }
    let command = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
    return command.hasSuffix("postgres") || command.hasSuffix("postmaster")
  }

  private func startServer(_ layout: LocalClusterLayout) throws {
    let pidFile = layout.dataDirectory + "/postmaster.pid"
    if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
      let first = text.split(separator: "\n").first,
      let pid = Int32(String(first).trimmingWhitespace()),
      kill(pid, 0) == 0, !Self.isPostgresProcess(pid)
    {
      // The pid was reused by an unrelated process after a crash; the server would refuse to
      // start while its pid file names a live process.
      try? FileManager.default.removeItem(atPath: pidFile)
    }
    let binaries = try layout.binaries()
    Self.waitForOrphanedChildren(pidFile: pidFile)
    var lastOutput = ""
    // Should the old children still hold the shared memory, the server refuses to start until
    // they are gone, so retry briefly.
    for attempt in 0..<10 {
      let outcome = try runServerTool(
        layout, binaries.pgCtl.path,
        ["-D", layout.dataDirectory, "-l", layout.logFile, "-w", "-t", "60", "start"])
      if outcome.status == 0, try isAccepting(layout) { return }
      lastOutput = outcome.output.trimmingWhitespace()
      if try serverPID(layout) != nil, try isAccepting(layout) { return }
      usleep(UInt32(200_000 * (attempt + 1)))
    }
    throw PostgresError(
      .cluster, "The embedded PostgreSQL did not start: \(lastOutput). See \(layout.logFile)")
  }

  /// After a kill -9 of the postmaster, its children (checkpointer, backends) notice and exit
  /// within moments, but until they do they keep the old shared memory segment attached and a
  /// new server refuses to start. The pid file's last line names that segment: wait (at most
  /// 15 s) until nothing is attached to it.
  static func waitForOrphanedChildren(pidFile: String) {
    guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count >= 7, let pid = Int32(String(lines[0]).trimmingWhitespace()),
      !isPostgresProcess(pid),
      let segment = lines[6].split(separator: " ").last.flatMap({ Int32(String($0)) })
    else { return }
    let deadline = ContinuousClock.now + .seconds(15)
    while ContinuousClock.now < deadline {
      var status = shmid_ds()
      guard shmctl(segment, IPC_STAT, &status) == 0, status.shm_nattch > 0 else { return }
      usleep(20_000)
    }
  }

  private func isAccepting(_ layout: LocalClusterLayout) throws -> Bool {
    guard
      FileManager.default.fileExists(atPath: layout.socketDirectory + "/.s.PGSQL.\(layout.port)")
    else {
      return false
    }
    do {
      let connection = try PostgresConnection(
        configuration: layout.configuration(database: "postgres"))
      connection.close()
      return true
    } catch {
      return false
    }
  }

  private func ensureDatabase(_ layout: LocalClusterLayout) throws {
    let connection = try PostgresConnection(
      configuration: layout.configuration(database: "postgres"))
    defer { connection.close() }
    let exists =
      try connection.query(
        "SELECT 1 FROM pg_database WHERE datname = $1", [Self.databaseName],
        name: "clusterDatabaseExists"
      ).count == 1
    if !exists {
      do {
        try connection.execute(
          "CREATE DATABASE \(Self.databaseName)", name: "clusterCreateDatabase")
      } catch let error as PostgresError
        where error.sqlState == PostgresError.SQLState.duplicateDatabase
      {
        // Created by a concurrent trolley process in between: fine.
      }
    }
  }

  private func runServerTool(
    _ layout: LocalClusterLayout, _ executable: String, _ arguments: [String]
  ) throws
    -> ProcessRunner.Outcome
  {
    try ProcessRunner.run(
      executable: executable, arguments: arguments, asUser: layout.serviceUser,
      workingDirectory: URL(fileURLWithPath: layout.root))
  }

  // MARK: - Helpers

  /// Serializes start/stop between trolley processes sharing this home.
  private func withLock<T>(_ body: () throws -> T) throws -> T {
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let lockPath = home.appendingPathComponent("postgres.lock").path
    let descriptor = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw PostgresError(.cluster, "Cannot open \(lockPath) (errno \(errno))")
    }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw PostgresError(.cluster, "Cannot lock \(lockPath) (errno \(errno))")
      }
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }

  /// 12 hex digits of FNV-1a over the text: short, stable names for directories.
  static func shortHash(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
  }
}

extension JSONEncoder {
  static var pretty: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return encoder
  }
}
