internal import Tensor
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a `.safetensors` file tensor by tensor, streaming to disk.
///
/// The tensors are declared up front (the header needs every offset), then their bytes are
/// appended in declaration order, whole or in chunks, so a 17 GB checkpoint never has to be in
/// memory. The file is written as `<path>.partial` and renamed into place by `finish()`;
/// abandoning a writer removes the partial file.
///
///     let writer = try SafeTensorsWriter(path: out, tensors: [
///       .init(name: "w", dtype: .bf16, shape: [4096, 4096])])
///     for chunk in rows { try writer.append(floats: chunk) }
///     try writer.finish()
public final class SafeTensorsWriter {
  /// A tensor to be written: its name, dtype and shape.
  public struct TensorSpec: Sendable, Hashable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]

    public init(name: String, dtype: SafeTensorsDType, shape: [Int]) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
    }

    /// Bytes of the tensor's data.
    public var byteCount: Int { shape.reduce(1, *) * dtype.byteWidth }
  }

  /// The destination path (the file appears there on `finish()`).
  public let path: String
  private let specs: [TensorSpec]
  private let partialPath: String
  private var descriptor: Int32
  /// Output staged for the next `write(2)`: `pending` bytes of `buffer` are in use.
  private let buffer: UnsafeMutableRawBufferPointer
  private var pending = 0
  /// Index of the tensor being written and bytes of it written so far.
  private var current = 0
  private var written = 0
  private var finished = false

  /// Bytes buffered before a `write` call: large enough to amortize syscalls.
  private static let bufferSize = 4 << 20

  /// Creates `<path>.partial` and writes the header.
  ///
  /// - Parameters:
  ///   - path: the final file.
  ///   - tensors: every tensor, in the order their data will be appended; names must be unique.
  ///   - metadata: the `__metadata__` map (`{"format": "pt"}` like PyTorch's files).
  /// - Throws: `TroLError.invalidRequest` for duplicate names or negative dimensions,
  ///   `TroLError.io` if the file cannot be created.
  public init(path: String, tensors: [TensorSpec], metadata: [String: String] = ["format": "pt"])
    throws
  {
    self.path = path
    specs = tensors
    partialPath = path + ".partial"
    var names = Set<String>()
    for spec in tensors {
      guard names.insert(spec.name).inserted else {
        throw TroLError(.invalidRequest, "tensor '\(spec.name)' is declared twice for \(path)")
      }
      guard spec.shape.allSatisfy({ $0 >= 0 }) else {
        throw TroLError(
          .invalidRequest, "tensor '\(spec.name)' has a negative dimension in \(spec.shape)")
      }
    }
    descriptor = open(partialPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else {
      throw TroLError(.io, "cannot create \(partialPath): \(String(cString: strerror(errno)))")
    }
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
    var header = Array(Self.header(tensors, metadata: metadata).utf8)
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - (8 + header.count) % 8) % 8)
    var length = UInt64(header.count).littleEndian
    try withUnsafeBytes(of: &length) { try buffered($0) }
    try header.withUnsafeBytes { try buffered($0) }
    try skipEmptyTensors()
  }

  deinit {
    buffer.deallocate()
    if descriptor >= 0 { close(descriptor) }
    if !finished { unlink(partialPath) }
  }

  /// The name of the tensor the next bytes belong to, or nil when all data is written.
  public var currentTensor: String? { current < specs.count ? specs[current].name : nil }

  /// Appends raw little-endian bytes of the current tensor (a whole tensor or a chunk; a chunk
  /// may run on into the following tensors).
  ///
  /// - Throws: `TroLError.invalidRequest` if more bytes arrive than were declared; `.io` on
  ///   write failure.
  public func append(_ bytes: UnsafeRawBufferPointer) throws {
    var remaining = bytes
    while !remaining.isEmpty {
      guard current < specs.count else {
        throw TroLError(
          .invalidRequest, "\(path): \(remaining.count) bytes beyond the declared tensors")
      }
      let take = min(remaining.count, specs[current].byteCount - written)
      try buffered(UnsafeRawBufferPointer(rebasing: remaining[..<take]))
      remaining = UnsafeRawBufferPointer(rebasing: remaining[take...])
      written += take
      try advanceIfComplete()
    }
  }

  /// Appends f32 values to the current tensor, narrowed to its dtype (F32, F16 or BF16; ties to
  /// even). The chunk must not run past the end of the current tensor.
  ///
  /// - Throws: `TroLError.invalidRequest` if the tensor is not a float tensor or the chunk is too
  ///   long; `.io` on write failure.
  public func append(floats: UnsafeBufferPointer<Float>) throws {
    guard current < specs.count else {
      throw TroLError(
        .invalidRequest, "\(path): \(floats.count) floats beyond the declared tensors")
    }
    let spec = specs[current]
    guard let dtype = spec.dtype.storageDType else {
      throw TroLError(
        .invalidRequest,
        "tensor '\(spec.name)' is \(spec.dtype.rawValue); append floats only to F32/F16/BF16")
    }
    let byteCount = floats.count * dtype.byteWidth
    guard byteCount <= spec.byteCount - written else {
      throw TroLError(
        .invalidRequest,
        "tensor '\(spec.name)': \(floats.count) floats exceed its remaining \((spec.byteCount - written) / dtype.byteWidth)"
      )
    }
    guard let source = floats.baseAddress else { return }
    // Convert straight into the output buffer, flushing whenever it fills.
    var start = 0
    while start < floats.count {
      if Self.bufferSize - pending < dtype.byteWidth { try flush() }
      let count = min(floats.count - start, (Self.bufferSize - pending) / dtype.byteWidth)
      let destination = buffer.baseAddress! + pending
      switch dtype {
      case .f32: destination.copyMemory(from: source + start, byteCount: count * 4)
      case .f16: HalfConversion.narrowToF16(source + start, into: destination, count: count)
      case .bf16: HalfConversion.narrowToBF16(source + start, into: destination, count: count)
      }
      pending += count * dtype.byteWidth
      start += count
    }
    written += byteCount
    try advanceIfComplete()
  }

  /// Appends f32 values (see `append(floats:)`).
  public func append(floats: [Float]) throws {
    try floats.withUnsafeBufferPointer { try append(floats: $0) }
  }

  /// Appends I64 values to the current tensor.
  public func append(int64s: [Int64]) throws {
    try checkCurrent(.i64, count: int64s.count)
    try int64s.map(\.littleEndian).withUnsafeBytes { try append($0) }
  }

  /// Appends U8 values to the current tensor.
  public func append(uint8s: [UInt8]) throws {
    try checkCurrent(.u8, count: uint8s.count)
    try uint8s.withUnsafeBytes { try append($0) }
  }

  /// Flushes, closes and renames the file into place.
  ///
  /// - Throws: `TroLError.invalidRequest` if declared tensors have not been fully written;
  ///   `.io` on failure.
  public func finish() throws {
    guard !finished else { return }
    guard current == specs.count else {
      throw TroLError(
        .invalidRequest,
        "\(path): tensor '\(specs[current].name)' and \(specs.count - current - 1) more are not fully written"
      )
    }
    try flush()
    guard fsync(descriptor) == 0, close(descriptor) == 0 else {
      let message = String(cString: strerror(errno))
      descriptor = -1
      throw TroLError(.io, "cannot finish \(partialPath): \(message)")
    }
    descriptor = -1
    guard rename(partialPath, path) == 0 else {
      throw TroLError(
        .io, "cannot rename \(partialPath) to \(path): \(String(cString: strerror(errno)))")
    }
    finished = true
  }

  /// Writes a whole file of small tensors held in memory (goldens, tests).
  ///
  /// - Throws: as `init` and `append`.
  public static func write(
    path: String, tensors: [(spec: TensorSpec, bytes: [UInt8])],
    metadata: [String: String] = ["format": "pt"]
  ) throws {
    let writer = try SafeTensorsWriter(path: path, tensors: tensors.map(\.spec), metadata: metadata)
    for tensor in tensors {
      guard tensor.bytes.count == tensor.spec.byteCount else {
        throw TroLError(
          .invalidRequest,
          "tensor '\(tensor.spec.name)': \(tensor.bytes.count) bytes for \(tensor.spec.byteCount)")
      }
      try tensor.bytes.withUnsafeBytes { try writer.append($0) }
    }
    try writer.finish()
  }

  // MARK: - Internals

  private func checkCurrent(_ dtype: SafeTensorsDType, count: Int) throws {
    guard current < specs.count, specs[current].dtype == dtype else {
      throw TroLError(
        .invalidRequest,
        "\(path): the current tensor '\(currentTensor ?? "none")' is not \(dtype.rawValue)")
    }
    guard count * dtype.byteWidth <= specs[current].byteCount - written else {
      throw TroLError(
        .invalidRequest, "tensor '\(specs[current].name)': \(count) values exceed its size")
    }
  }

  private func advanceIfComplete() throws {
    if current < specs.count && written == specs[current].byteCount {
      current += 1
      written = 0
      try skipEmptyTensors()
    }
  }

  private func skipEmptyTensors() throws {
    while current < specs.count && specs[current].byteCount == 0 { current += 1 }
  }

  private func buffered(_ bytes: UnsafeRawBufferPointer) throws {
    if pending + bytes.count > Self.bufferSize { try flush() }
    if bytes.count >= Self.bufferSize {
      try writeAll(bytes)
    } else if let source = bytes.baseAddress {
      (buffer.baseAddress! + pending).copyMemory(from: source, byteCount: bytes.count)
      pending += bytes.count
    }
  }

  private func flush() throws {
    try writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<pending]))
    pending = 0
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      #if canImport(Glibc)
        let result = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
      #else
        let result = Darwin.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
      #endif
      if result < 0 {
        if errno == EINTR { continue }
        throw TroLError(.io, "cannot write \(partialPath): \(String(cString: strerror(errno)))")
      }
      offset += result
    }
  }

  static func header(_ tensors: [TensorSpec], metadata: [String: String]) -> String {
    var parts: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.sorted { $0.key < $1.key }.map {
        "\(jsonString($0.key)):\(jsonString($0.value))"
      }
      parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for spec in tensors {
      let end = offset + spec.byteCount
      let shape = spec.shape.map(String.init).joined(separator: ",")
      parts.append(
        "\(jsonString(spec.name)):{\"dtype\":\"\(spec.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
      )
      offset = end
    }
    return "{" + parts.joined(separator: ",") + "}"
  }

  static func jsonString(_ text: String) -> String { JSONString.quoted(text) }
}
