public import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Walks a folder tree depth first in byte-wise sorted order, yielding regular files one at a time.
///
/// Only one directory listing per level is held in memory, so a tree of millions of files costs
/// memory proportional to its largest directory, not its size. Hidden entries (names starting
/// with '.') are skipped; symbolic links to files are followed, links to folders are not (no loops).
/// Everything passed over is recorded in `skipped` with its reason.
public final class DirectoryWalker {
  private struct Level {
    var path: String
    var entries: [(name: String, isDirectory: Bool)]
    var position = 0
  }

  private var stack: [Level] = []
  private let root: String
  /// Entries passed over: hidden ones, links to folders, sockets and other special files,
  /// entries that cannot be examined.
  public private(set) var skipped = SkippedFiles()

  /// Starts a walk at `root`.
  /// - Throws: `CLIError.notFound` or `.io` if `root` cannot be listed.
  public init(root: String) throws(CLIError) {
    self.root = root
    stack.append(Level(path: root, entries: try Self.list(root, skipped: &skipped)))
  }

  /// The path of the next regular file, or nil at the end of the walk.
  /// - Throws: `CLIError.io` when a folder inside the tree cannot be listed.
  public func next() throws(CLIError) -> String? {
    while let top = stack.indices.last {
      if stack[top].position == stack[top].entries.count {
        stack.removeLast()
        continue
      }
      let entry = stack[top].entries[stack[top].position]
      stack[top].position += 1
      let path = stack[top].path == "/" ? "/" + entry.name : stack[top].path + "/" + entry.name
      if entry.isDirectory {
        stack.append(Level(path: path, entries: try Self.list(path, skipped: &skipped)))
        continue
      }
      return path
    }
    return nil
  }

  private static func list(_ path: String, skipped: inout SkippedFiles) throws(CLIError) -> [(
    name: String, isDirectory: Bool
  )] {
    guard let directory = opendir(path) else {
      let code = errno
      if code == ENOENT {
        throw CLIError(.notFound, "\(path): no such folder. Check the path and try again.")
      }
      throw CLIError(.io, "cannot list the folder \(path): \(String(cString: strerror(code))).")
    }
    defer { closedir(directory) }
    var entries: [(name: String, isDirectory: Bool)] = []
    while let entry = readdir(directory) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name == "." || name == ".." { continue }
      let full = path == "/" ? "/" + name : path + "/" + name
      if name.hasPrefix(".") {
        skipped.record(full, "hidden (the name starts with a dot)")
        continue
      }
      switch Int32(entry.pointee.d_type) {
      case Int32(DT_DIR): entries.append((name, true))
      case Int32(DT_REG): entries.append((name, false))
      default:
        // Unknown type (some file systems) or a symbolic link: ask stat, which follows links.
        var info = stat()
        guard stat(full, &info) == 0 else {
          skipped.record(
            full, "cannot be read (\(String(cString: strerror(errno))); a broken link?)")
          continue
        }
        let isLink = Int32(entry.pointee.d_type) == Int32(DT_LNK)
        if (info.st_mode & S_IFMT) == S_IFREG {
          entries.append((name, false))
        } else if (info.st_mode & S_IFMT) == S_IFDIR, !isLink {
          entries.append((name, true))
        } else if (info.st_mode & S_IFMT) == S_IFDIR {
          skipped.record(full, "a link to a folder (not followed, to avoid loops)")
        } else {
          skipped.record(full, "not a regular file")
        }
      }
    }
    entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    return entries
  }
}
