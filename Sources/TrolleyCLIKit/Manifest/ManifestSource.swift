public import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `--images` names: a folder, a glob pattern, a JSONL, CSV or TSV manifest, or a plain
/// list of paths and URLs.
public enum ManifestSource: Sendable, Equatable {
  case folder(String)
  case glob(String)
  case jsonl(String)
  case csv(String)
  case tsv(String)
  /// One path or URL per line (`.txt`, `.lst`, `.list`).
  case paths(String)

  /// The path or pattern `--images` gave.
  public var path: String {
    switch self {
    case .folder(let value), .glob(let value), .jsonl(let value), .csv(let value),
      .tsv(let value), .paths(let value):
      value
    }
  }

  /// Decides what `argument` is, by the file system and then by its extension.
  /// - Throws: `CLIError.notFound` or `.invalidArgument` with what the operator can pass instead.
  public static func detect(_ argument: String) throws(CLIError) -> ManifestSource {
    let accepted =
      "Pass a folder of images, a quoted glob such as 'photos/**/*.jpg', a manifest ending in "
      + ".jsonl, .csv or .tsv, or a list of paths or URLs ending in .txt."
    guard !argument.isEmpty else {
      throw CLIError(.invalidArgument, "--images is empty. \(accepted)")
    }
    var info = stat()
    if stat(argument, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { return .folder(argument) }
      switch ImagePath.fileExtension(argument) {
      case "jsonl", "ndjson": return .jsonl(argument)
      case "csv": return .csv(argument)
      case "tsv", "tab": return .tsv(argument)
      case "txt", "lst", "list": return .paths(argument)
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
  /// - Parameter columns: Column names from `--image-column`/`--question-column`.
  /// - Throws: `CLIError` if the source cannot be opened, its header is unusable, or columns are
  ///   chosen for a source without columns.
  public func open(columns: ManifestColumnChoice = .standard) throws(CLIError) -> any ManifestReader
  {
    if columns != .standard, !hasColumns {
      throw CLIError(
        .invalidArgument,
        "--image-column and --question-column apply to JSONL, CSV and TSV manifests; \(path) "
          + "is a folder, a glob or a list of paths.")
    }
    switch self {
    case .folder(let path): return try FolderManifestReader(root: path)
    case .glob(let pattern): return try GlobManifestReader(pattern: pattern)
    case .jsonl(let path): return try JSONLManifestReader(path: path, columns: columns)
    case .csv(let path): return try CSVManifestReader(path: path, columns: columns)
    case .tsv(let path):
      return try CSVManifestReader(path: path, delimiter: UInt8(ascii: "\t"), columns: columns)
    case .paths(let path): return try PathListManifestReader(path: path)
    }
  }

  /// True for manifests, whose rows may be malformed (folders and globs only yield files).
  public var isManifest: Bool {
    switch self {
    case .jsonl, .csv, .tsv, .paths: true
    case .folder, .glob: false
    }
  }

  /// True for manifests with named columns (so each row may carry its own question).
  public var hasColumns: Bool {
    switch self {
    case .jsonl, .csv, .tsv: true
    case .folder, .glob, .paths: false
    }
  }

  /// How to refer to the source in messages ("line 4" or "file 4").
  public var rowNoun: String { isManifest ? "line" : "file" }
}
