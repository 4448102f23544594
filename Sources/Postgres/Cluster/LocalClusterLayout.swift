import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a local cluster lives and who runs it, as recorded in `$TROLLEY_HOME/postgres.json`.
struct LocalClusterLayout: Codable, Sendable, Hashable {
  /// A random identity, also written to `<root>/trolley-cluster-id`: proof that we created it.
  let clusterID: String
  /// The cluster's folder: `data/`, `postgres.log`, and usually `run/`.
  let root: String
  /// Where the server puts its Unix socket.
  let socketDirectory: String
  let port: Int
  /// The unprivileged user the server runs as when trolley runs as root; nil: the current user.
  let serviceUser: String?
  let superuser: String

  static let markerName = "trolley-cluster-id"

  var dataDirectory: String { root + "/data" }
  var logFile: String { root + "/postgres.log" }

  func configuration(database: String) -> PostgresConfiguration {
    PostgresConfiguration(
      "",
      overrides: [
        "host": socketDirectory, "port": String(port), "user": superuser, "dbname": database,
      ])
  }

  func url(database: String) -> String {
    let host =
      socketDirectory.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)
      ?? socketDirectory
    return "postgresql:///\(database)?host=\(host)&port=\(port)&user=\(superuser)"
  }

  /// Refuses a cluster folder whose marker is missing or names another cluster.
  func verifyOwnership() throws {
    let marker = root + "/" + Self.markerName
    let recorded = (try? String(contentsOfFile: marker, encoding: .utf8))?.trimmingWhitespace()
    guard recorded == clusterID else {
      throw PostgresError(
        .cluster,
        "\(root) does not carry this trolley home's cluster identity (\(marker)); it was not created here, so trolley will not touch it"
      )
    }
  }

  /// The server binaries, matching the data directory's version when it has one.
  func binaries() throws -> ServerBinaries {
    let version = (try? String(contentsOfFile: dataDirectory + "/PG_VERSION", encoding: .utf8))?
      .trimmingWhitespace()
    return try ServerBinaries.locate(version: version)
  }

  /// Gives a path to the service user (when running as root) with owner-only permissions.
  func takeOwnership(of path: String) throws {
    if let serviceUser, let user = getpwnam(serviceUser) {
      guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
        throw PostgresError(.cluster, "Cannot give \(path) to \(serviceUser) (errno \(errno))")
      }
    }
    let isDirectory =
      (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType)
      == .typeDirectory
    guard chmod(path, isDirectory ? 0o700 : 0o600) == 0 else {
      throw PostgresError(.cluster, "Cannot set permissions on \(path) (errno \(errno))")
    }
  }
}
