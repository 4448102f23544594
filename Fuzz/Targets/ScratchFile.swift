#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The readers under test take paths (they map or stream files), so each input is written to a
/// per-process scratch directory first.
enum ScratchFile {
  static let directory: String = {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    let path = "\(base)/trolley-fuzz-\(getpid())"
    mkdir(path, 0o700)
    return path
  }()

  /// Writes `bytes` to `name` in the scratch directory and returns its path.
  @discardableResult
  static func write(_ bytes: [UInt8], named name: String) -> String {
    let path = directory + "/" + name
    guard let file = fopen(path, "wb") else {
      complain("cannot write \(path)")
      exit(2)
    }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    return path
  }

  static func remove(named name: String) {
    unlink(directory + "/" + name)
  }
}

/// Prints `message` on standard error (the C `stderr` global is not concurrency-safe in Swift 6).
func complain(_ message: String) {
  let line = Array("trolley-fuzz: \(message)\n".utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
