internal import Tensor
import TrolleyBasics

/// A `torch.save(state_dict)` file (zip + pickle) read without Python and without executing
/// anything: the tensors' names, shapes and values.
///
/// Only what a plain state dict of float tensors needs is supported (see `TorchPickle`); the
/// storages must be stored (uncompressed) little-endian zip entries, as `torch.save` writes them.
public struct TorchStateDictFile: Sendable {
  /// One tensor of the state dict.
  public struct Tensor: Sendable, Hashable {
    public let name: String
    public let storageType: TorchStorageType
    /// The storage's key in the archive (`data/<key>`); entries sharing a key share memory.
    public let storageKey: String
    public let shape: [Int]
    /// The elements, widened to f32 exactly, in row-major order.
    public let values: [Float]
  }

  /// Largest file accepted: trol_gating.pt is a few kB, and the whole file is read.
  public static let maximumFileSize = 256 << 20

  /// Most elements one tensor may expand to (64 MiB of f32).
  public static let maximumTensorElements = 16 << 20

  public let path: String
  /// Tensors in the order of the state dict.
  public let tensors: [Tensor]

  /// Reads and decodes `path`.
  ///
  /// - Throws: `TroLError.io` if it cannot be read; `TroLError.invalidCheckpoint` for a truncated
  ///   or corrupt archive, a forbidden pickle opcode or global, or a tensor outside its storage;
  ///   `TroLError.unsupportedDType` for storages other than Float, Half and BFloat16.
  public init(path: String) throws {
    self.path = path
    let file = try MappedFile(path: path)
    guard file.bytes.count <= Self.maximumFileSize else {
      throw TroLError(
        .invalidCheckpoint, "\(path): \(file.bytes.count) bytes is too large for a gate state dict")
    }
    if file.bytes.count >= 2, file.bytes[0] == 0x80, file.bytes[1] <= 5 {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): legacy (pre-1.6) torch pickle format; re-save it with torch.save (the zip format) first"
      )
    }
    let archive = try ZipArchive(bytes: file.bytes, path: path)
    // torch.save puts every entry under one folder named after the archive (any name works).
    guard let first = archive.names.first, let slash = first.firstIndex(of: "/") else {
      throw TroLError(
        .invalidCheckpoint,
        "\(path): empty archive or entries outside a top folder; not a torch.save file")
    }
    let prefix = String(first[..<slash])
    guard let pickle = archive.entry("\(prefix)/data.pkl") else {
      throw TroLError(
        .invalidCheckpoint, "\(path): no \(prefix)/data.pkl; not a torch.save zip file")
    }
    if let order = archive.entry("\(prefix)/byteorder"),
      String(decoding: order, as: UTF8.self) != "little"
    {
      throw TroLError(.invalidCheckpoint, "\(path): big-endian torch files are not supported")
    }
    let decoded = try TorchPickle(pickle, path: path)
    var tensors: [Tensor] = []
    for (name, ref) in decoded.entries {
      guard let dtype = ref.storage.dtype.storageDType else {
        throw TroLError(
          .unsupportedDType,
          "\(path): tensor '\(name)' is stored as torch.\(ref.storage.dtype.rawValue); only Float, Half and BFloat16 are read"
        )
      }
      let entryName = "\(prefix)/data/\(ref.storage.key)"
      guard let storage = archive.entry(entryName) else {
        throw TroLError(
          .invalidCheckpoint, "\(path): tensor '\(name)' refers to missing storage \(entryName)")
      }
      let width = dtype.byteWidth
      // The element count comes from the file: multiply without trapping on overflow.
      let (storageBytes, overflow) = ref.storage.elementCount.multipliedReportingOverflow(by: width)
      guard !overflow, storage.count == storageBytes else {
        throw TroLError(
          .invalidCheckpoint,
          "\(path): storage \(entryName) has \(storage.count) bytes, its persistent id promises \(ref.storage.elementCount) × \(width)"
        )
      }
      let count = ref.shape.reduce(1, *)
      // Zero strides let a tiny storage describe a huge view; nothing read here is that big.
      guard count <= Self.maximumTensorElements else {
        throw TroLError(
          .invalidCheckpoint,
          "\(path): tensor '\(name)' has \(count) elements (shape \(ref.shape)); too large for a gate"
        )
      }
      var values = [Float](repeating: 0, count: count)
      // Walk the view's indices in row-major order (views may be strided or offset).
      var index = [Int](repeating: 0, count: ref.shape.count)
      for flat in 0..<count {
        var element = ref.offset
        for axis in 0..<index.count { element += index[axis] * ref.strides[axis] }
        // Non-empty: the view reaches element `element` < elementCount of a non-empty storage.
        let source = storage.baseAddress! + element * width
        switch dtype {
        case .f32:
          values[flat] = Float(
            bitPattern: UInt32(littleEndian: source.loadUnaligned(as: UInt32.self)))
        case .f16: HalfConversion.widenF16(source, into: &values[flat], count: 1)
        case .bf16: HalfConversion.widenBF16(source, into: &values[flat], count: 1)
        }
        var axis = index.count - 1
        while axis >= 0 {
          index[axis] += 1
          if index[axis] < ref.shape[axis] { break }
          index[axis] = 0
          axis -= 1
        }
      }
      tensors.append(
        Tensor(
          name: name, storageType: ref.storage.dtype, storageKey: ref.storage.key, shape: ref.shape,
          values: values))
    }
    self.tensors = tensors
  }

  /// The tensor called `name`, or nil.
  public func tensor(_ name: String) -> Tensor? { tensors.first { $0.name == name } }
}
