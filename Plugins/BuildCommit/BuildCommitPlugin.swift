import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` (the git commit this build comes from) before each build of the
/// target it is applied to, so `trolley --version`, the metrics' `trolley_build_info` and every
/// result's provenance name the exact source they were built from.
///
/// A prebuild command, because the commit changes without any input file changing. It runs
/// `/bin/sh` (prebuild commands may only run tools that exist before the build) and rewrites the
/// file only when its text changes, so an unchanged commit costs no recompilation. Outside a git
/// checkout (a source tarball) the commit is `$TROLLEY_BUILD_COMMIT` if set, else "unknown".
@main
struct BuildCommitPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
    let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
    let override = ProcessInfo.processInfo.environment["TROLLEY_BUILD_COMMIT"] ?? ""
    return [
      .prebuildCommand(
        displayName: "Recording the build commit of \(target.name)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [
          "-c", Self.script, "build-commit", context.package.directoryURL.path, output.path,
          override,
        ],
        outputFilesDirectory: output)
    ]
  }

  // $1 the package directory, $2 the output directory, $3 an override (empty when unset).
  // "-dirty" marks a build with uncommitted changes to tracked files.
  static let script = #"""
    set -u
    mkdir -p "$2"
    commit="$3"
    if [ -z "$commit" ]; then
      commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
      if [ "$commit" != unknown ] && ! git -C "$1" diff --quiet HEAD -- 2>/dev/null; then
        commit="$commit-dirty"
      fi
    fi
    text="// Generated before each build by the BuildCommit plugin; do not edit.
    let buildCommit = \"$commit\""
    file="$2/BuildCommit.swift"
    if [ ! -f "$file" ] || [ "$(cat "$file")" != "$text" ]; then
      printf '%s\n' "$text" > "$file.tmp" && mv "$file.tmp" "$file"
    fi
    """#
}
