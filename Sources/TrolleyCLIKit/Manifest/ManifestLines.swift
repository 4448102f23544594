/// The lines of a line-based manifest (JSON Lines, a path list): read through `LineReader`, with
/// a UTF-8 byte-order mark before the first line dropped, and the folder that relative image paths
/// in it resolve against.
struct ManifestLines {
  private let reader: LineReader
  /// The manifest's folder.
  let baseDirectory: String

  /// Opens `path`.
  /// - Throws: `CLIError.notFound` or `.io`.
  init(path: String) throws(CLIError) {
    reader = try LineReader(path: path)
    baseDirectory = ImagePath.directory(
      of: ImagePath.resolve(path, relativeTo: ImagePath.currentDirectory()))
  }

  /// The next line's 1-based number and bytes (without its `\n`), or nil at the end of the file.
  /// - Throws: as `LineReader.nextLine()`.
  func next() throws(CLIError) -> (number: Int, bytes: [UInt8])? {
    guard var bytes = try reader.nextLine() else { return nil }
    let number = reader.lineNumber
    if number == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    return (number, bytes)
  }
}
