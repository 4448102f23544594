public import Foundation

/// One numbered SQL migration, `NNNN_name.sql`, from `Migrations/SQL/`.
///
/// The file runs with the simple query protocol inside one transaction (so it may hold several
/// statements but must not say BEGIN/COMMIT itself, nor use `CREATE INDEX CONCURRENTLY`).
public struct Migration: Sendable, Hashable {
  /// The number before the first underscore (1 for `0001_queue.sql`).
  public let version: Int64
  /// The file name without `.sql` (`0001_queue`).
  public let name: String
  /// The SQL text.
  public let sql: String
  /// A fingerprint of the SQL text (FNV-1a 64, hex), recorded when applied so later edits show.
  public let checksum: String

  public init(version: Int64, name: String, sql: String) {
    self.version = version
    self.name = name
    self.sql = sql
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in sql.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    self.checksum = String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// Reads every `NNNN_name.sql` file in `directory`, sorted by version.
  /// - Throws: `PostgresError.Code.migration` for unreadable files, malformed names or two files
  ///   with the same number.
  public static func load(from directory: URL) throws -> [Migration] {
    let files: [String]
    do {
      files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
      throw MigrationError(
        "Cannot list the migrations directory \(directory.path): \(error.localizedDescription)")
    }
    var migrations: [Migration] = []
    for file in files.sorted() where file.hasSuffix(".sql") {
      let stem = String(file.dropLast(4))
      guard let underscore = stem.firstIndex(of: "_"), let version = Int64(stem[..<underscore]),
        version > 0,
        stem[..<underscore].allSatisfy(\.isASCII), stem.index(after: underscore) < stem.endIndex
      else {
        throw MigrationError(
          "Migration file \(file) is not named NNNN_name.sql (a positive number, an underscore, a name)"
        )
      }
      let url = directory.appendingPathComponent(file)
      guard let data = FileManager.default.contents(atPath: url.path),
        let sql = String(data: data, encoding: .utf8)
      else { throw MigrationError("Cannot read migration file \(url.path) as UTF-8") }
      if let clash = migrations.first(where: { $0.version == version }) {
        throw MigrationError(
          "Migrations \(clash.name).sql and \(file) have the same number \(version); renumber one")
      }
      migrations.append(Migration(version: version, name: stem, sql: sql))
    }
    return migrations.sorted { $0.version < $1.version }
  }

  /// The migrations shipped with Trolley.
  ///
  /// Looked up, in order: `$TROLLEY_MIGRATIONS_DIR`; `<prefix>/share/trolley/migrations` for a
  /// binary installed as `<prefix>/bin/trolley` (what `Ops/install` lays out); the `SQL` folder of the resource bundle
  /// SwiftPM puts next to the running executable (the `trolley` binary or the test runner); the
  /// source tree this was built from.
  /// - Throws: `PostgresError.Code.migration` if none of these exists.
  public static func bundled() throws -> [Migration] {
    try load(from: try bundledDirectory())
  }

  /// The directory `bundled()` reads.
  public static func bundledDirectory() throws -> URL {
    var candidates: [URL] = []
    if let override = ProcessInfo.processInfo.environment["TROLLEY_MIGRATIONS_DIR"],
      !override.isEmpty
    {
      candidates.append(URL(fileURLWithPath: override))
    }
    // Not `Bundle.module`: its accessor calls fatalError when the bundle is missing, and a
    // copied binary should get a clear error instead.
    let bundleName = "Trolley_Migrations.resources"
    var executableDirectories: [URL] = []
    if let executable = Bundle.main.executableURL {
      executableDirectories.append(executable.deletingLastPathComponent())
      executableDirectories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
    }
    executableDirectories.append(Bundle.main.bundleURL)
    executableDirectories.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for directory in executableDirectories {
      candidates.append(
        directory.deletingLastPathComponent().appendingPathComponent("share/trolley/migrations"))
    }
    for directory in executableDirectories {
      candidates.append(directory.appendingPathComponent(bundleName).appendingPathComponent("SQL"))
      candidates.append(
        directory.appendingPathComponent(bundleName).appendingPathComponent(
          "Contents/Resources/SQL"))
    }
    candidates.append(
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("SQL"))
    var isDirectory: ObjCBool = false
    for candidate in candidates
    where FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory)
      && isDirectory.boolValue
    {
      return candidate
    }
    throw MigrationError(
      "Cannot find Trolley's migrations (looked in \(candidates.map(\.path).joined(separator: ", "))); set TROLLEY_MIGRATIONS_DIR to the Migrations/SQL folder"
    )
  }
}
