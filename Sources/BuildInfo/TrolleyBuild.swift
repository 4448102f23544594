/// What this binary is: Trolley's version and the git commit it was built from.
///
/// The commit comes from the BuildCommit plugin, which reads it from git before each build
/// ("unknown" when built outside a git checkout without `TROLLEY_BUILD_COMMIT`; a "-dirty" suffix
/// when tracked files had uncommitted changes).
public enum TrolleyBuild {
  /// The release version (semantic versioning).
  public static let version = "0.2.0"

  /// The abbreviated commit hash (12 hex digits), possibly with "-dirty", or "unknown".
  public static let commit: String = buildCommit

  /// `0.2.0 (commit 1a2b3c4d5e6f)`: what `trolley --version` prints.
  public static var description: String { "\(version) (commit \(commit))" }
}
