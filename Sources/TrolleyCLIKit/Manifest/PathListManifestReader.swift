/// Reads a plain list of images: one path or URL per line (as `find photos -name '*.jpg'` or
/// img2dataset's URL lists write them). Blank lines and lines starting with `#` are skipped;
/// relative paths are resolved against the list's folder.
public final class PathListManifestReader: ManifestReader {
  private let lines: ManifestLines

  /// Opens `path`.
  /// - Throws: `CLIError.notFound` or `.io`.
  public init(path: String) throws(CLIError) {
    lines = try ManifestLines(path: path)
  }

  public func next() throws(CLIError) -> ManifestEntry? {
    while case (let line, var bytes)? = try lines.next() {
      if bytes.last == 0x0D { bytes.removeLast() }
      guard let text = String(validating: bytes, as: UTF8.self) else {
        return .issue(ManifestIssue(line: line, message: "the line is not valid UTF-8 text"))
      }
      let reference = text.trimmingSpaces()
      if reference.isEmpty || reference.hasPrefix("#") { continue }
      return .row(
        ManifestRow(
          line: line, image: ImagePath.resolve(reference, relativeTo: lines.baseDirectory)))
    }
    return nil
  }
}
