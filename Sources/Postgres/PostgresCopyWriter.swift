import CLibPQ

/// Feeds rows to a `COPY ... FROM STDIN` started by `PostgresConnection.copyFrom(_:name:_:)`.
///
/// Rows are buffered and sent in chunks of about 64 KiB, so memory stays constant however many
/// rows are written. `writeRow` produces PostgreSQL's text format (tab-separated, `\N` for NULL,
/// with backslash escapes), matching `COPY t (a, b) FROM STDIN`; `write(_:)` passes bytes through
/// untouched for other formats (CSV, binary).
public struct PostgresCopyWriter: ~Copyable {
  private let handle: OpaquePointer
  private var buffer: [UInt8] = []
  /// Rows written with `writeRow`.
  public private(set) var rowsWritten = 0
  static let chunkSize = 64 * 1024

  init(handle: OpaquePointer) {
    self.handle = handle
    buffer.reserveCapacity(Self.chunkSize + 4096)
  }

  /// Appends one row in COPY text format; nil fields are NULL.
  /// - Throws: `PostgresError.Code.copyFailed` if the server connection fails.
  public mutating func writeRow(_ fields: [String?]) throws {
    for (index, field) in fields.enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: "\t")) }
      guard let field else {
        buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        continue
      }
      for byte in field.utf8 {
        switch byte {
        case UInt8(ascii: "\\"):
          buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        default: buffer.append(byte)
        }
      }
    }
    buffer.append(UInt8(ascii: "\n"))
    rowsWritten += 1
    if buffer.count >= Self.chunkSize { try flush() }
  }

  /// Appends raw COPY data (for CSV or binary COPY, or pre-formatted text rows).
  /// - Throws: `PostgresError.Code.copyFailed` if the server connection fails.
  public mutating func write(_ bytes: some Sequence<UInt8>) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= Self.chunkSize { try flush() }
  }

  /// Sends what is buffered.
  mutating func flush() throws {
    guard !buffer.isEmpty else { return }
    let sent = buffer.withUnsafeBytes { bytes in
      PQputCopyData(
        handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
    }
    guard sent == 1 else {
      throw PostgresError(
        .copyFailed, "Sending COPY data failed",
        serverMessage: PostgresConnection.errorMessage(handle))
    }
    buffer.removeAll(keepingCapacity: true)
  }
}
