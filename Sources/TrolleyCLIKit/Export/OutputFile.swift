public import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Buffered output to standard output or to a file that appears atomically.
///
/// For a file, bytes go to a temporary file in the same folder, which `commit()` flushes, fsyncs
/// and renames over the destination, so readers see either the old file or the complete new one,
/// never a partial export. Without `commit()` (an error, Ctrl-C) the temporary file is removed.
public final class OutputFile {
  private let descriptor: Int32
  /// The destination, or nil for standard output.
  public let destination: String?
  private let temporaryPath: String?
  private var buffer: [UInt8] = []
  private var finished = false
  private let capacity = 1 << 18
  /// Bytes written so far (including those still buffered).
  public private(set) var byteCount = 0

  /// Opens standard output (`path` nil or "-") or a temporary file beside `path`.
  /// - Throws: `CLIError.notFound` if the folder does not exist, `.io` otherwise.
  public init(path: String?) throws(CLIError) {
    buffer.reserveCapacity(capacity)
    guard let path, path != "-" else {
      descriptor = STDOUT_FILENO
      destination = nil
      temporaryPath = nil
      return
    }
    let folder = ImagePath.directory(of: path)
    var info = stat()
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      throw CLIError(
        .invalidArgument,
        "--out \(path) is a folder. Give a file name, such as \(path)/results.jsonl.")
    }
    guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
      throw CLIError(.notFound, "the folder \(folder) for --out does not exist. Create it first.")
    }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    var random = SystemRandomNumberGenerator()
    let suffix = String(random.next() as UInt64, radix: 36)
    let temporary = (folder == "." ? "" : folder + "/") + ".\(name).\(getpid()).\(suffix).tmp"
    // Results may be private: a new file is readable by its owner only (0600); a file being
    // replaced keeps its permissions, so an operator's chmod survives a re-export.
    let opened = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard opened >= 0 else {
      throw CLIError(
        .io,
        "cannot create a file in \(folder): \(String(cString: strerror(errno))). Check that the folder is writable."
      )
    }
    var replaced = stat()
    if stat(path, &replaced) == 0, (replaced.st_mode & S_IFMT) == S_IFREG {
      _ = fchmod(opened, replaced.st_mode & 0o7777)
    }
    descriptor = opened
    destination = path
    temporaryPath = temporary
  }

  deinit {
    if !finished { abort() }
  }

  /// Appends `text`'s UTF-8 bytes.
  /// - Throws: `CLIError.io` if writing fails (a full disk, a closed pipe).
  public func write(_ text: String) throws(CLIError) {
    var text = text
    let result: Result<Void, CLIError> = text.withUTF8 { bytes in
      do throws(CLIError) {
        try write(bytes)
        return .success(())
      } catch {
        return .failure(error)
      }
    }
    try result.get()
  }

  /// Appends raw bytes.
  /// - Throws: `CLIError.io` if writing fails.
  public func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(CLIError) {
    buffer.append(contentsOf: bytes)
    byteCount += bytes.count
    if buffer.count >= capacity { try flush() }
  }

  /// Writes out the buffer.
  /// - Throws: `CLIError.io` if writing fails.
  public func flush() throws(CLIError) {
    var offset = 0
    while offset < buffer.count {
      let written = buffer.withUnsafeBytes { raw in
        Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
      }
      if written < 0 {
        if errno == EINTR { continue }
        let reason = String(cString: strerror(errno))
        throw CLIError(.io, "cannot write \(destination ?? "standard output"): \(reason).")
      }
      offset += written
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes; for a file, fsyncs and renames it into place, then fsyncs the folder.
  /// - Throws: `CLIError.io`; the temporary file is then removed.
  public func commit() throws(CLIError) {
    do throws(CLIError) {
      try flush()
      guard let destination, let temporaryPath else {
        finished = true
        return
      }
      guard fsync(descriptor) == 0 else {
        throw CLIError(.io, "cannot sync \(destination): \(String(cString: strerror(errno))).")
      }
      close(descriptor)
      finished = true
      guard rename(temporaryPath, destination) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporaryPath)
        throw CLIError(.io, "cannot move the export into place at \(destination): \(reason).")
      }
      let folder = open(ImagePath.directory(of: destination), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      if folder >= 0 {
        fsync(folder)
        close(folder)
      }
    } catch {
      abort()
      throw error
    }
  }

  /// Discards a file export: closes and removes the temporary file. Standard output is flushed.
  public func abort() {
    guard !finished else { return }
    finished = true
    if let temporaryPath {
      close(descriptor)
      unlink(temporaryPath)
    } else {
      try? flush()
    }
  }
}
