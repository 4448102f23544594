internal import Foundation
internal import Tensor
import TrolleyBasics

/// Writes a state dict of float tensors in PyTorch's zip format, readable by `torch.load` and by
/// `TorchStateDictFile`: `<archive>/data.pkl` (pickle protocol 2, the same opcodes `torch.save`
/// emits), `<archive>/data/<key>` storages, `byteorder`, `version`.
public enum TorchStateDictWriter {
  /// One state-dict entry: a contiguous view of the whole storage `storageKey`.
  public struct Tensor: Sendable {
    public var name: String
    /// Entries with the same key share one storage (their values must be equal).
    public var storageKey: String
    public var storageType: TorchStorageType
    public var shape: [Int]
    /// Row-major values; narrowed to the storage type (ties to even).
    public var values: [Float]
  }

  /// The archive bytes.
  ///
  /// - Parameter archiveName: the top folder inside the zip (`torch.save` uses the file's stem).
  /// - Throws: `TroLError.invalidRequest` for inconsistent tensors (shape vs values, storages
  ///   shared with different contents, a storage type that is not Float, Half or BFloat16).
  public static func encode(_ tensors: [Tensor], archiveName: String = "archive") throws -> [UInt8]
  {
    var storages: [(key: String, type: TorchStorageType, values: [Float])] = []
    for tensor in tensors {
      guard tensor.storageType.storageDType != nil else {
        throw TroLError(
          .invalidRequest, "'\(tensor.name)': only Float, Half and BFloat16 storages are written")
      }
      guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.shape.reduce(1, *) == tensor.values.count
      else {
        throw TroLError(
          .invalidRequest,
          "'\(tensor.name)': \(tensor.values.count) values for shape \(tensor.shape)")
      }
      if let existing = storages.first(where: { $0.key == tensor.storageKey }) {
        guard existing.type == tensor.storageType, existing.values == tensor.values else {
          throw TroLError(
            .invalidRequest,
            "'\(tensor.name)' shares storage '\(tensor.storageKey)' with different contents")
        }
      } else {
        storages.append((tensor.storageKey, tensor.storageType, tensor.values))
      }
    }
    var entries: [(name: String, data: [UInt8])] = [("\(archiveName)/data.pkl", pickle(tensors))]
    entries.append(("\(archiveName)/byteorder", Array("little".utf8)))
    for storage in storages {
      entries.append(
        ("\(archiveName)/data/\(storage.key)", bytes(storage.values, as: storage.type)))
    }
    entries.append(("\(archiveName)/version", Array("3\n".utf8)))
    return ZipStoredWriter.archive(entries)
  }

  /// Writes the archive to `path` (atomically: a temporary file renamed into place).
  ///
  /// - Throws: as `encode`, plus `TroLError.io` if the file cannot be written.
  public static func write(_ tensors: [Tensor], to path: String) throws {
    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    let archiveName =
      stem.isEmpty
        || !stem.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        )
      ? "archive" : stem
    let data = Data(try encode(tensors, archiveName: archiveName))
    do {
      try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw TroLError(.io, "cannot write \(path): \(error.localizedDescription)")
    }
  }

  static func bytes(_ values: [Float], as type: TorchStorageType) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: values.count * type.byteWidth) { out, initialized in
      values.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress, let to = out.baseAddress else { return }
        switch type {
        case .half:
          HalfConversion.narrowToF16(from, into: UnsafeMutableRawPointer(to), count: values.count)
        case .bfloat16:
          HalfConversion.narrowToBF16(from, into: UnsafeMutableRawPointer(to), count: values.count)
        default: UnsafeMutableRawPointer(to).copyMemory(from: from, byteCount: values.count * 4)
        }
      }
      initialized = values.count * type.byteWidth
    }
  }

  /// Protocol-2 pickle of `OrderedDict(name -> _rebuild_tensor_v2(...))` plus torch's
  /// `_metadata` attribute (module prefix -> {"version": 1}).
  static func pickle(_ tensors: [Tensor]) -> [UInt8] {
    var p = PickleEmitter()
    p.op(0x80)
    p.raw([2])  // PROTO 2
    p.global("collections", "OrderedDict")
    p.op(0x29)
    p.op(0x52)  // OrderedDict()
    p.op(0x28)  // MARK
    for tensor in tensors {
      p.string(tensor.name)
      p.global("torch._utils", "_rebuild_tensor_v2")
      p.op(0x28)
      p.op(0x28)  // persistent id tuple
      p.string("storage")
      p.global("torch", tensor.storageType.rawValue)
      p.string(tensor.storageKey)
      p.string("cpu")
      p.int(tensor.values.count)
      p.op(0x74)
      p.op(0x51)  // TUPLE, BINPERSID
      p.int(0)
      p.tuple(tensor.shape)
      var strides = [Int](repeating: 1, count: tensor.shape.count)
      for axis in stride(from: tensor.shape.count - 2, through: 0, by: -1) {
        strides[axis] = strides[axis + 1] * tensor.shape[axis + 1]
      }
      p.tuple(strides)
      p.op(0x89)  // requires_grad False
      p.global("collections", "OrderedDict")
      p.op(0x29)
      p.op(0x52)  // backward hooks
      p.op(0x74)
      p.op(0x52)  // TUPLE, REDUCE
    }
    p.op(0x75)  // SETITEMS
    var prefixes = [""]
    for tensor in tensors {
      if let dot = tensor.name.lastIndex(of: ".") {
        let prefix = String(tensor.name[..<dot])
        if !prefixes.contains(prefix) { prefixes.append(prefix) }
      }
    }
    p.op(0x7d)  // EMPTY_DICT (the BUILD state)
    p.string("_metadata")
    p.global("collections", "OrderedDict")
    p.op(0x29)
    p.op(0x52)
    p.op(0x28)
    for prefix in prefixes {
      p.string(prefix)
      p.op(0x7d)
      p.string("version")
      p.int(1)
      p.op(0x73)
    }
    p.op(0x75)  // SETITEMS
    p.op(0x73)  // SETITEM
    p.op(0x62)  // BUILD
    p.op(0x2e)  // STOP
    return p.bytes
  }
}

/// Appends pickle opcodes and operands.
struct PickleEmitter {
  var bytes: [UInt8] = []

  mutating func op(_ code: UInt8) { bytes.append(code) }
  mutating func raw(_ data: [UInt8]) { bytes += data }

  mutating func string(_ text: String) {
    let utf8 = Array(text.utf8)
    op(0x58)  // BINUNICODE
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8((utf8.count >> shift) & 0xff))
    }
    bytes += utf8
  }

  mutating func global(_ module: String, _ name: String) {
    op(0x63)
    bytes += Array("\(module)\n\(name)\n".utf8)
  }

  mutating func int(_ value: Int) {
    if (0..<256).contains(value) {
      op(0x4b)
      bytes.append(UInt8(value))
    } else if (0..<65536).contains(value) {
      op(0x4d)
      bytes.append(UInt8(value & 0xff))
      bytes.append(UInt8(value >> 8))
    } else if let small = Int32(exactly: value) {
      op(0x4a)
      for shift in stride(from: 0, to: 32, by: 8) {
        bytes.append(UInt8((Int(small) >> shift) & 0xff))
      }
    } else {
      op(0x8a)
      bytes.append(8)
      for shift in stride(from: 0, to: 64, by: 8) {
        bytes.append(UInt8(truncatingIfNeeded: value >> shift))
      }
    }
  }

  mutating func tuple(_ values: [Int]) {
    switch values.count {
    case 0: op(0x29)
    case 1:
      int(values[0])
      op(0x85)
    case 2:
      int(values[0])
      int(values[1])
      op(0x86)
    case 3:
      int(values[0])
      int(values[1])
      int(values[2])
      op(0x87)
    default:
      op(0x28)
      for value in values { int(value) }
      op(0x74)
    }
  }
}
