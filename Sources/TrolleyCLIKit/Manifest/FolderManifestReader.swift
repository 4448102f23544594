public import TrolleyBasics

/// Yields every image file under a folder, recursively and in sorted order, as a manifest row.
public final class FolderManifestReader: ManifestReader {
  private let walker: DirectoryWalker
  private let extensions: Set<String>
  private var ordinal = 0

  /// - Parameters:
  ///   - root: The folder to walk (made absolute so workers elsewhere can open the files).
  ///   - extensions: Lowercased file extensions to pick up.
  /// - Throws: `CLIError.notFound` or `.io` if the folder cannot be listed.
  public init(root: String, extensions: Set<String> = ImagePath.folderExtensions) throws(CLIError) {
    walker = try DirectoryWalker(
      root: ImagePath.resolve(root, relativeTo: ImagePath.currentDirectory()))
    self.extensions = extensions
  }

  private var notImages = SkippedFiles()

  public func next() throws(CLIError) -> ManifestEntry? {
    while let path = try walker.next() {
      let ext = ImagePath.fileExtension(path)
      guard extensions.contains(ext) else {
        notImages.record(
          path,
          ext.isEmpty
            ? "no file extension; images need one of \(Self.extensionList(extensions))"
            : ".\(ext) is not an image format Trolley reads (\(Self.extensionList(extensions)))")
        continue
      }
      ordinal += 1
      return .row(ManifestRow(line: ordinal, image: path))
    }
    return nil
  }

  /// The walker's skips (hidden, links to folders, special files), then files that are not images.
  public var skippedFiles: SkippedFiles {
    var all = walker.skipped
    all.absorb(notImages)
    return all
  }

  static func extensionList(_ extensions: Set<String>) -> String {
    extensions.sorted().map { "." + $0 }.joined(separator: ", ")
  }
}

/// Yields every file matching a glob pattern (such as `photos/**/*.jpg`), in sorted order.
public final class GlobManifestReader: ManifestReader {
  private let pattern: GlobPattern
  private let walker: DirectoryWalker
  private let rootPrefixCount: Int
  private var ordinal = 0

  /// - Throws: `CLIError.notFound` if the pattern's fixed folder does not exist.
  public init(pattern text: String) throws(CLIError) {
    let absolute = ImagePath.resolve(text, relativeTo: ImagePath.currentDirectory())
    pattern = GlobPattern(absolute)
    do {
      walker = try DirectoryWalker(root: pattern.root)
    } catch  where error.code == .notFound {
      throw CLIError(
        .notFound,
        "\(pattern.root): no such folder (from the pattern \(text)). Check the path and try again.")
    }
    rootPrefixCount = pattern.root == "/" ? 1 : pattern.root.utf8.count + 1
  }

  public func next() throws(CLIError) -> ManifestEntry? {
    while let path = try walker.next() {
      let relative = String(decoding: path.utf8.dropFirst(rootPrefixCount), as: UTF8.self)
      guard pattern.matches(relativePath: relative) else { continue }
      ordinal += 1
      return .row(ManifestRow(line: ordinal, image: path))
    }
    return nil
  }
}
