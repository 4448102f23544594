public import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a file line by line through a fixed buffer, so memory stays constant however large the
/// file is. Lines are split on `\n`; a `\r` before it is kept for the caller to judge (CSV keeps
/// CRLF inside quoted fields, JSON treats it as whitespace).
public final class LineReader {
  /// A line longer than this is refused rather than buffered without bound.
  public static let maximumLineBytes = 16 << 20

  private let descriptor: Int32
  private let path: String
  private var buffer: [UInt8]
  private var start = 0
  private var end = 0
  private var atEOF = false
  /// The 1-based number of the line most recently returned.
  public private(set) var lineNumber = 0

  /// Opens `path` for reading.
  /// - Throws: `CLIError.notFound` or `.io` naming the file.
  public init(path: String, bufferSize: Int = 1 << 20) throws(CLIError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    if descriptor < 0 {
      let reason = String(cString: strerror(errno))
      if errno == ENOENT {
        throw CLIError(.notFound, "\(path): no such file. Check the path and try again.")
      }
      throw CLIError(.io, "cannot open \(path): \(reason).")
    }
    self.descriptor = descriptor
    self.path = path
    self.buffer = [UInt8](repeating: 0, count: bufferSize)
  }

  deinit { close(descriptor) }

  /// The next line without its `\n`, or nil at the end of the file.
  /// - Throws: `CLIError.io` on a read error, `.invalidManifest` for a line over the size limit.
  public func nextLine() throws(CLIError) -> [UInt8]? {
    var carried: [UInt8] = []
    while true {
      if start < end {
        let found = buffer.withUnsafeBufferPointer { pointer -> Int? in
          guard let base = pointer.baseAddress else { return nil }
          guard let hit = memchr(base + start, 0x0A, end - start) else { return nil }
          return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        if let newline = found {
          carried.append(contentsOf: buffer[start..<newline])
          start = newline + 1
          lineNumber += 1
          return carried
        }
        carried.append(contentsOf: buffer[start..<end])
        start = end
        if carried.count > Self.maximumLineBytes {
          throw CLIError(
            .invalidManifest,
            "\(path): line \(lineNumber + 1) is longer than \(Self.maximumLineBytes >> 20) MiB. "
              + "Is this a text manifest with one record per line?")
        }
      }
      if atEOF {
        if carried.isEmpty { return nil }
        lineNumber += 1
        return carried
      }
      try fill()
    }
  }

  private func fill() throws(CLIError) {
    start = 0
    end = 0
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw CLIError(.io, "cannot read \(path): \(String(cString: strerror(errno))).")
      }
      if count == 0 { atEOF = true }
      end = count
      return
    }
  }
}
