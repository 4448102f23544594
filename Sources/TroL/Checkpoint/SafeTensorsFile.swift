internal import Foundation
public import Tensor
import TrolleyBasics

/// A memory-mapped `.safetensors` file with a fully validated header.
///
/// Opening checks the whole header once (length, JSON, dtypes, shapes, offsets in bounds, no
/// overlap, sizes matching shape × dtype); afterwards every accessor is a lookup plus a view into
/// the mapping. Bytes are little-endian and may be unaligned (the format does not promise
/// alignment): read them with `loadUnaligned` or copy them.
public final class SafeTensorsFile: @unchecked Sendable {
  /// One tensor's header entry.
  public struct TensorInfo: Sendable, Hashable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the file (already offset past the header).
    public let fileRange: Range<Int>

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes.
    public var byteCount: Int { fileRange.count }
  }

  /// The header never exceeds this many bytes (the reference implementation's own limit).
  public static let maximumHeaderLength = 100_000_000

  /// The file's path, used in every error message.
  public let path: String
  /// The optional `__metadata__` string map (for example `["format": "pt"]`).
  public let metadata: [String: String]
  /// Tensor names, sorted.
  public let names: [String]
  private let infos: [String: TensorInfo]
  private let file: MappedFile

  /// Maps `path` and validates its header.
  ///
  /// - Throws: `TroLError.io` if the file cannot be read, `TroLError.invalidCheckpoint` naming
  ///   the file (and the tensor) when the header is truncated, malformed or inconsistent.
  public init(path: String) throws {
    self.path = path
    file = try MappedFile(path: path)
    let bytes = file.bytes
    guard bytes.count >= 8 else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): truncated safetensors file (\(bytes.count) bytes; it must start with an 8-byte header length)"
      )
    }
    let declared = bytes.loadUnaligned(as: UInt64.self).littleEndian
    guard declared >= 2, declared <= UInt64(Self.maximumHeaderLength) else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): header length \(declared) is not sane (must be 2...\(Self.maximumHeaderLength)); not a safetensors file?"
      )
    }
    let headerLength = Int(declared)
    guard headerLength <= bytes.count - 8 else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): truncated safetensors file: header of \(headerLength) bytes but only \(bytes.count - 8) bytes follow the length"
      )
    }
    let dataStart = 8 + headerLength
    let dataLength = bytes.count - dataStart
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
    guard headerBytes.first == UInt8(ascii: "{") else {
      throw TroLError(
        .invalidCheckpoint, "\(path): header does not start with '{'; not a safetensors file")
    }

    let header = try Self.decodeHeader(Data(headerBytes), path: path)
    metadata = header.metadata
    var infos: [String: TensorInfo] = [:]
    infos.reserveCapacity(header.entries.count)
    for (name, entry) in header.entries {
      infos[name] = try Self.validate(
        entry, name: name, dataStart: dataStart, dataLength: dataLength, path: path)
    }
    // Overlap check on the sorted ranges; empty tensors occupy no bytes and cannot overlap.
    let byStart = infos.values.filter { !$0.fileRange.isEmpty }.sorted {
      $0.fileRange.lowerBound < $1.fileRange.lowerBound
    }
    for (previous, next) in zip(byStart, byStart.dropFirst())
    where next.fileRange.lowerBound < previous.fileRange.upperBound {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): tensors '\(previous.name)' and '\(next.name)' overlap (data_offsets \(previous.fileRange.lowerBound - dataStart)..<\(previous.fileRange.upperBound - dataStart) and \(next.fileRange.lowerBound - dataStart)..<\(next.fileRange.upperBound - dataStart))"
      )
    }
    self.infos = infos
    names = infos.keys.sorted()
  }

  /// Number of tensors.
  public var count: Int { infos.count }

  /// Whether the file holds a tensor called `name`.
  public func contains(_ name: String) -> Bool { infos[name] != nil }

  /// The header entry of `name`.
  ///
  /// - Throws: `TroLError.missingTensor` naming the tensor and the file.
  public func info(_ name: String) throws -> TensorInfo {
    guard let info = infos[name] else {
      throw TroLError(
        .missingTensor,
        "\(path): no tensor '\(name)' (the file holds \(infos.count) tensors); is this checkpoint of the right model family?"
      )
    }
    return info
  }

  /// The raw bytes of any tensor, whatever its dtype (a view into the mapping).
  ///
  /// The view is valid while this file object lives.
  /// - Throws: `TroLError.missingTensor`.
  public func bytes(_ name: String) throws -> UnsafeRawBufferPointer {
    let info = try info(name)
    return UnsafeRawBufferPointer(rebasing: file.bytes[info.fileRange])
  }

  /// A weight view (F32, F16 or BF16) whose owner keeps the mapping alive.
  ///
  /// - Parameters:
  ///   - name: the checkpoint key.
  ///   - shape: when given, the shape the caller requires.
  /// - Throws: `TroLError.missingTensor`, `TroLError.unsupportedDType` for non-float dtypes, and
  ///   `TroLError.invalidCheckpoint` when the shape differs from `shape`.
  public func tensor(_ name: String, shape: [Int]? = nil) throws -> RawTensorData {
    let info = try info(name)
    guard let dtype = info.dtype.storageDType else {
      throw TroLError(
        .unsupportedDType,
        "\(path): tensor '\(name)' is \(info.dtype.rawValue); weights must be F32, F16 or BF16")
    }
    if let shape, shape != info.shape {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): tensor '\(name)' has shape \(info.shape), expected \(shape); does config.json match these weights?"
      )
    }
    return RawTensorData(
      dtype: dtype, shape: info.shape,
      bytes: UnsafeRawBufferPointer(rebasing: file.bytes[info.fileRange]), owner: file)
  }

  /// The tensor's elements as f32 (F32, F16 and BF16 convert exactly).
  ///
  /// - Throws: as `tensor(_:shape:)`.
  public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
    let raw = try tensor(name, shape: shape)
    return HalfConversion.floats(raw)
  }

  /// The elements of an integer or boolean tensor (I64, I32, I16, I8, U64, U32, U16, U8, BOOL).
  ///
  /// - Throws: `TroLError.unsupportedDType` for float tensors or U64 values beyond Int64.max.
  public func int64s(_ name: String) throws -> [Int64] {
    let info = try info(name)
    let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[info.fileRange])
    guard info.dtype.isInteger else {
      throw TroLError(
        .unsupportedDType,
        "\(path): tensor '\(name)' is \(info.dtype.rawValue), not an integer tensor")
    }
    var values = [Int64]()
    values.reserveCapacity(info.count)
    let width = info.dtype.byteWidth
    // Element i, read as the little-endian integer type I.
    func element<I: FixedWidthInteger>(_ i: Int, _: I.Type) -> I {
      I(littleEndian: bytes.loadUnaligned(fromByteOffset: i * width, as: I.self))
    }
    for i in 0..<info.count {
      switch info.dtype {
      case .bool, .u8: values.append(Int64(element(i, UInt8.self)))
      case .i8: values.append(Int64(element(i, Int8.self)))
      case .i16: values.append(Int64(element(i, Int16.self)))
      case .u16: values.append(Int64(element(i, UInt16.self)))
      case .i32: values.append(Int64(element(i, Int32.self)))
      case .u32: values.append(Int64(element(i, UInt32.self)))
      case .i64: values.append(element(i, Int64.self))
      default:
        let value = element(i, UInt64.self)
        guard let exact = Int64(exactly: value) else {
          throw TroLError(
            .unsupportedDType, "\(path): tensor '\(name)' element \(i) (\(value)) exceeds Int64")
        }
        values.append(exact)
      }
    }
    return values
  }

  /// The elements of a U8 (or BOOL) tensor.
  ///
  /// - Throws: `TroLError.unsupportedDType` for any other dtype.
  public func uint8s(_ name: String) throws -> [UInt8] {
    let info = try info(name)
    guard info.dtype == .u8 || info.dtype == .bool else {
      throw TroLError(
        .unsupportedDType, "\(path): tensor '\(name)' is \(info.dtype.rawValue), not U8")
    }
    return [UInt8](UnsafeRawBufferPointer(rebasing: file.bytes[info.fileRange]))
  }

  // MARK: - Header

  private struct Entry: Decodable {
    let dtype: String
    let shape: [Int]
    let dataOffsets: [Int]

    enum CodingKeys: String, SnakeCaseCodingKey {
      case dtype, shape, dataOffsets
    }
  }

  private struct Header: Decodable {
    var metadata: [String: String] = [:]
    var entries: [(String, Entry)] = []

    struct Key: CodingKey {
      let stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: Key.self)
      for key in container.allKeys {
        if key.stringValue == "__metadata__" {
          metadata = try container.decode([String: String].self, forKey: key)
        } else {
          entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
        }
      }
    }
  }

  private static func decodeHeader(_ data: Data, path: String) throws -> Header {
    do {
      return try JSONDecoder().decode(Header.self, from: data)
    } catch let error as DecodingError {
      throw TroLError(.invalidCheckpoint, "\(path): malformed header: \(error.summary)")
    } catch {
      throw TroLError(.invalidCheckpoint, "\(path): malformed header: \(error)")
    }
  }

  private static func validate(
    _ entry: Entry, name: String, dataStart: Int, dataLength: Int, path: String
  ) throws -> TensorInfo {
    guard let dtype = SafeTensorsDType(rawValue: entry.dtype) else {
      throw TroLError(
        .unsupportedDType, "\(path): tensor '\(name)' has unknown dtype '\(entry.dtype)'")
    }
    var count = 1
    for dimension in entry.shape {
      guard dimension >= 0 else {
        throw TroLError(
          .invalidCheckpoint,
          "\(path): tensor '\(name)' has a negative dimension in shape \(entry.shape)")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else {
        throw TroLError(
          .invalidCheckpoint, "\(path): tensor '\(name)' shape \(entry.shape) overflows")
      }
      count = product
    }
    guard entry.dataOffsets.count == 2 else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): tensor '\(name)' data_offsets must be [begin, end], got \(entry.dataOffsets)")
    }
    let begin = entry.dataOffsets[0]
    let end = entry.dataOffsets[1]
    guard begin >= 0, begin <= end, end <= dataLength else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): tensor '\(name)' data_offsets [\(begin), \(end)] lie outside the \(dataLength) data bytes (truncated file or lying header)"
      )
    }
    let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth)
    guard !overflow, expected == end - begin else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): tensor '\(name)' has \(end - begin) bytes but shape \(entry.shape) of \(dtype.rawValue) needs \(overflow ? "too many" : String(expected))"
      )
    }
    return TensorInfo(
      name: name, dtype: dtype, shape: entry.shape,
      fileRange: (dataStart + begin)..<(dataStart + end))
  }
}
