/// Reads a plain list of images: one path or URL per line (as `find photos -name '*.jpg'` or
/// img2dataset's URL lists write them). Blank lines and lines starting with `#` are skipped;
/// relative paths are resolved against the list's folder.
public final class PathListManifestReader: ManifestReader {
  private let lines: LineReader
  private let baseDirectory: String

  /// Opens `path`.
  /// - Throws: `CLIError.notFound` or `.io`.
  public init(path: String) throws(CLIError) {
    lines = try LineReader(path: path)
    baseDirectory = ImagePath.directory(
      of: ImagePath.resolve(path, relativeTo: ImagePath.currentDirectory()))
  }

  public func next() throws(CLIError) -> ManifestEntry? {
    while var bytes = try lines.nextLine() {
      let line = lines.lineNumber
      if line == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
      if bytes.last == 0x0D { bytes.removeLast() }
      guard let text = String(validating: bytes, as: UTF8.self) else {
        return .issue(ManifestIssue(line: line, message: "the line is not valid UTF-8 text"))
      }
      let reference = text.trimmingSpaces()
      if reference.isEmpty || reference.hasPrefix("#") { continue }
      return .row(
        ManifestRow(line: line, image: ImagePath.resolve(reference, relativeTo: baseDirectory)))
    }
    return nil
  }
}
