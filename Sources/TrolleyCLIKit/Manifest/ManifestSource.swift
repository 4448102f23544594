#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `--images` names: a folder, a glob pattern, or a JSONL or CSV manifest.
public enum ManifestSource: Sendable, Equatable {
  case folder(String)
  case glob(String)
  case jsonl(String)
  case csv(String)

  /// Decides what `argument` is, by the file system and then by its extension.
  /// - Throws: `CLIError.notFound` or `.invalidArgument` with what the operator can pass instead.
  public static func detect(_ argument: String) throws(CLIError) -> ManifestSource {
    let accepted =
      "Pass a folder of images, a quoted glob such as 'photos/**/*.jpg', or a manifest ending in "
      + ".jsonl or .csv."
    guard !argument.isEmpty else {
      throw CLIError(.invalidArgument, "--images is empty. \(accepted)")
    }
    var info = stat()
    if stat(argument, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { return .folder(argument) }
      switch ImagePath.fileExtension(argument) {
      case "jsonl", "ndjson": return .jsonl(argument)
      case "csv": return .csv(argument)
      case let ext where ImagePath.folderExtensions.contains(ext):
        return .glob(argument)
      default:
        throw CLIError(
          .invalidArgument,
          "\(argument) is neither a folder nor a manifest Trolley reads. \(accepted)")
      }
    }
    if GlobPattern.hasWildcard(argument) { return .glob(argument) }
    throw CLIError(.notFound, "\(argument): no such file or folder. \(accepted)")
  }

  /// Opens a streaming reader over the source.
  /// - Throws: `CLIError` if the source cannot be opened or its header is unusable.
  public func open() throws(CLIError) -> any ManifestReader {
    switch self {
    case .folder(let path): try FolderManifestReader(root: path)
    case .glob(let pattern): try GlobManifestReader(pattern: pattern)
    case .jsonl(let path): try JSONLManifestReader(path: path)
    case .csv(let path): try CSVManifestReader(path: path)
    }
  }

  /// True for manifests, whose rows may be malformed (folders and globs only yield files).
  public var isManifest: Bool {
    switch self {
    case .jsonl, .csv: true
    case .folder, .glob: false
    }
  }

  /// How to refer to the source in messages ("line 4" or "file 4").
  public var rowNoun: String { isManifest ? "line" : "file" }
}
