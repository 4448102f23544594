public import Tensor
import TrolleyBasics

/// The subset of Python's pickle that `torch.save(state_dict)` produces, interpreted without
/// ever calling anything.
///
/// Only the opcodes of protocols 2-5 that build plain data (tuples, lists, dicts, ints, floats,
/// strings, booleans, None, memo) are accepted, and only four kinds of globals: an
/// `OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`, and the typed
/// storage classes inside persistent ids. Any other opcode or global (`os.system`, `eval`,
/// `builtins.getattr`...) is an error, so a hostile file cannot run code. Containers live in
/// arenas and are referred to by index, so a deeply nested or self-referencing pickle cannot
/// exhaust the stack either.
struct TorchPickle {
  /// A storage named by a persistent id: `('storage', torch.XStorage, key, location, numel)`.
  struct StorageRef: Hashable {
    let dtype: TorchStorageType
    let key: String
    let elementCount: Int
  }

  /// A tensor view `_rebuild_tensor_v2(storage, offset, size, stride, ...)`.
  struct TensorRef: Hashable {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
  }

  enum Value {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes(Int)  // index into `byteStrings`
    case tuple(Int)  // index into `tuples`
    case list(Int)  // index into `lists`
    case dict(Int)  // index into `dicts`
    case global(Global)
    case storage(StorageRef)
    case tensor(TensorRef)
  }

  enum Global: Hashable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storageType(TorchStorageType)
  }

  /// The decoded state dict: keys and tensors in file order.
  let entries: [(key: String, tensor: TensorRef)]

  /// Most items one pickle may push; far beyond any state dict, far below memory trouble.
  static let maximumStackDepth = 1 << 20

  /// Interprets `data` (the archive's `data.pkl`).
  ///
  /// - Throws: `TroLError.invalidCheckpoint` naming `path`, the opcode or global and its offset.
  init(_ data: UnsafeRawBufferPointer, path: String) throws {
    var machine = Machine(data: data, path: path)
    let root = try machine.run()
    entries = try machine.stateDict(root)
  }

  private struct Machine {
    let data: UnsafeRawBufferPointer
    let path: String
    var position = 0
    var stack: [Value] = []
    var marks: [Int] = []
    var memo: [Int: Value] = [:]
    var tuples: [[Value]] = []
    var lists: [[Value]] = []
    var dicts: [[(Value, Value)]] = []
    var byteStrings: [[UInt8]] = []

    init(data: UnsafeRawBufferPointer, path: String) {
      self.data = data
      self.path = path
    }

    func fail(_ what: String, at offset: Int? = nil) -> TroLError {
      TroLError(
        .invalidCheckpoint, "\(path): pickle \(what)\(offset.map { " at byte \($0)" } ?? "")")
    }

    mutating func read(_ count: Int) throws -> UnsafeRawBufferPointer {
      guard count >= 0, count <= data.count - position else {
        throw fail("is truncated (needs \(count) more bytes)", at: position)
      }
      defer { position += count }
      return UnsafeRawBufferPointer(rebasing: data[position..<(position + count)])
    }

    mutating func byte() throws -> UInt8 { try read(1)[0] }

    mutating func littleEndian(_ count: Int) throws -> UInt64 {
      var value: UInt64 = 0
      for (index, byte) in try read(count).enumerated() {
        value |= UInt64(byte) << (8 * UInt64(index))
      }
      return value
    }

    mutating func line() throws -> String {
      guard let end = data[position...].firstIndex(of: UInt8(ascii: "\n")) else {
        throw fail("has an unterminated GLOBAL name", at: position)
      }
      let text = String(
        decoding: UnsafeRawBufferPointer(rebasing: data[position..<end]), as: UTF8.self)
      position = end + 1
      return text
    }

    mutating func push(_ value: Value) throws {
      guard stack.count < TorchPickle.maximumStackDepth else {
        throw fail("stack is too deep", at: position)
      }
      stack.append(value)
    }

    mutating func pop(_ opcode: String) throws -> Value {
      guard let value = stack.popLast() else {
        throw fail("stack underflow in \(opcode)", at: position)
      }
      if let mark = marks.last, stack.count < mark {
        throw fail("\(opcode) pops across a MARK", at: position)
      }
      return value
    }

    mutating func popMark(_ opcode: String) throws -> [Value] {
      guard let mark = marks.popLast() else { throw fail("\(opcode) without MARK", at: position) }
      guard mark <= stack.count else { throw fail("\(opcode): MARK beyond stack", at: position) }
      let items = Array(stack[mark...])
      stack.removeSubrange(mark...)
      return items
    }

    mutating func memoize(_ key: Int) throws {
      guard let top = stack.last else { throw fail("memo store with an empty stack", at: position) }
      memo[key] = top
    }

    mutating func fetch(_ key: Int) throws {
      guard let value = memo[key] else {
        throw fail("memo key \(key) was never stored", at: position)
      }
      try push(value)
    }

    mutating func string(_ count: Int) throws -> String {
      let bytes = try read(count)
      guard let text = String(validating: bytes, as: UTF8.self) else {
        throw fail("string is not valid UTF-8", at: position - count)
      }
      return text
    }

    mutating func tuple(_ items: [Value]) -> Value {
      tuples.append(items)
      return .tuple(tuples.count - 1)
    }

    mutating func resolveGlobal(module: String, name: String, at offset: Int) throws -> Global {
      switch (module, name) {
      case ("collections", "OrderedDict"): return .orderedDict
      case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
      case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
      case ("torch", _):
        if let storage = TorchStorageType(className: name) { return .storageType(storage) }
      default: break
      }
      throw fail(
        "refers to the forbidden global \(module).\(name) (only tensors in an OrderedDict are allowed)",
        at: offset)
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    mutating func run() throws -> Value {
      while true {
        let offset = position
        let opcode = try byte()
        switch opcode {
        case 0x80:  // PROTO
          let version = try byte()
          guard (2...5).contains(version) else {
            throw fail("protocol \(version) is not supported", at: offset)
          }
        case 0x95: _ = try read(8)  // FRAME: a length hint only
        case 0x2e:  // STOP
          guard marks.isEmpty, let result = stack.popLast(), stack.isEmpty else {
            throw fail("ends with \(stack.count) items on the stack", at: offset)
          }
          return result
        case 0x28: marks.append(stack.count)  // MARK
        case 0x29: try push(tuple([]))  // EMPTY_TUPLE
        case 0x74:
          let items = try popMark("TUPLE")
          try push(tuple(items))
        case 0x85:
          let a = try pop("TUPLE1")
          try push(tuple([a]))
        case 0x86:
          let b = try pop("TUPLE2")
          let a = try pop("TUPLE2")
          try push(tuple([a, b]))
        case 0x87:
          let c = try pop("TUPLE3")
          let b = try pop("TUPLE3")
          let a = try pop("TUPLE3")
          try push(tuple([a, b, c]))
        case 0x5d:
          lists.append([])
          try push(.list(lists.count - 1))  // EMPTY_LIST
        case 0x7d:
          dicts.append([])
          try push(.dict(dicts.count - 1))  // EMPTY_DICT
        case 0x61:  // APPEND
          let item = try pop("APPEND")
          guard case .list(let index) = stack.last else {
            throw fail("APPEND to a non-list", at: offset)
          }
          lists[index].append(item)
        case 0x65:  // APPENDS
          let items = try popMark("APPENDS")
          guard case .list(let index) = stack.last else {
            throw fail("APPENDS to a non-list", at: offset)
          }
          lists[index].append(contentsOf: items)
        case 0x73:  // SETITEM
          let value = try pop("SETITEM")
          let key = try pop("SETITEM")
          guard case .dict(let index) = stack.last else {
            throw fail("SETITEM on a non-dict", at: offset)
          }
          dicts[index].append((key, value))
        case 0x75:  // SETITEMS
          let items = try popMark("SETITEMS")
          guard items.count % 2 == 0 else {
            throw fail("SETITEMS with an odd item count", at: offset)
          }
          guard case .dict(let index) = stack.last else {
            throw fail("SETITEMS on a non-dict", at: offset)
          }
          for pair in stride(from: 0, to: items.count, by: 2) {
            dicts[index].append((items[pair], items[pair + 1]))
          }
        case 0x71: try memoize(Int(try byte()))  // BINPUT
        case 0x72: try memoize(Int(try littleEndian(4)))  // LONG_BINPUT
        case 0x94: try memoize(memo.count)  // MEMOIZE
        case 0x68: try fetch(Int(try byte()))  // BINGET
        case 0x6a: try fetch(Int(try littleEndian(4)))  // LONG_BINGET
        case 0x4b: try push(.int(Int64(try byte())))  // BININT1
        case 0x4d: try push(.int(Int64(try littleEndian(2))))  // BININT2
        case 0x4a: try push(.int(Int64(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
        case 0x8a:  // LONG1
          let count = Int(try byte())
          guard count <= 8 else { throw fail("LONG1 of \(count) bytes is too large", at: offset) }
          var value = try littleEndian(count)
          if count > 0 && count < 8 && (value >> (8 * UInt64(count) - 1)) & 1 == 1 {
            value |= ~0 << (8 * UInt64(count))  // sign-extend
          }
          try push(.int(Int64(bitPattern: value)))
        case 0x4e: try push(.none)  // NONE
        case 0x88: try push(.bool(true))  // NEWTRUE
        case 0x89: try push(.bool(false))  // NEWFALSE
        case 0x47:  // BINFLOAT, big-endian
          var bits: UInt64 = 0
          for byte in try read(8) { bits = bits << 8 | UInt64(byte) }
          try push(.float(Double(bitPattern: bits)))
        case 0x58: try push(.string(try string(Int(try littleEndian(4)))))  // BINUNICODE
        case 0x8c: try push(.string(try string(Int(try byte()))))  // SHORT_BINUNICODE
        case 0x8d:  // BINUNICODE8
          let count = try littleEndian(8)
          guard count <= UInt64(data.count) else {
            throw fail("string length \(count) exceeds the data", at: offset)
          }
          try push(.string(try string(Int(count))))
        case 0x55, 0x43:  // SHORT_BINSTRING, SHORT_BINBYTES
          byteStrings.append([UInt8](try read(Int(try byte()))))
          try push(.bytes(byteStrings.count - 1))
        case 0x54, 0x42:  // BINSTRING, BINBYTES
          byteStrings.append([UInt8](try read(Int(try littleEndian(4)))))
          try push(.bytes(byteStrings.count - 1))
        case 0x63:  // GLOBAL
          let module = try line()
          let name = try line()
          try push(.global(try resolveGlobal(module: module, name: name, at: offset)))
        case 0x93:  // STACK_GLOBAL
          let nameValue = try pop("STACK_GLOBAL")
          let moduleValue = try pop("STACK_GLOBAL")
          guard case .string(let name) = nameValue, case .string(let module) = moduleValue else {
            throw fail("STACK_GLOBAL without string operands", at: offset)
          }
          try push(.global(try resolveGlobal(module: module, name: name, at: offset)))
        case 0x52:  // REDUCE
          let arguments = try pop("REDUCE")
          let callable = try pop("REDUCE")
          try push(try reduce(callable, arguments, at: offset))
        case 0x62:  // BUILD
          let state = try pop("BUILD")
          // Only the state dict's `_metadata` attribute is accepted: a dict set on a dict.
          guard case .dict = stack.last, case .dict = state else {
            throw fail("BUILD is only allowed to attach metadata to the state dict", at: offset)
          }
        case 0x51:  // BINPERSID
          let pid = try pop("BINPERSID")
          try push(.storage(try storage(pid, at: offset)))
        case 0x30: _ = try pop("POP")  // POP
        case 0x31: _ = try popMark("POP_MARK")  // POP_MARK
        case 0x32:  // DUP
          guard let top = stack.last else { throw fail("DUP on an empty stack", at: offset) }
          try push(top)
        default:
          let printable =
            (0x20..<0x7f).contains(opcode) ? " ('\(Character(Unicode.Scalar(opcode)))')" : ""
          throw fail(
            "opcode 0x\(String(opcode, radix: 16))\(printable) is not allowed in a state-dict pickle",
            at: offset)
        }
      }
    }

    func tupleItems(_ value: Value) -> [Value]? {
      if case .tuple(let index) = value { return tuples[index] }
      return nil
    }

    func int(_ value: Value) -> Int? {
      if case .int(let v) = value { return Int(exactly: v) }
      return nil
    }

    func ints(_ value: Value) -> [Int]? {
      guard let items = tupleItems(value) else { return nil }
      let values = items.compactMap(int)
      return values.count == items.count ? values : nil
    }

    mutating func reduce(_ callable: Value, _ arguments: Value, at offset: Int) throws -> Value {
      guard case .global(let global) = callable, let args = tupleItems(arguments) else {
        throw fail("REDUCE of something other than an allowed global", at: offset)
      }
      switch global {
      case .orderedDict:
        guard args.isEmpty else {
          throw fail("OrderedDict with arguments is not supported", at: offset)
        }
        dicts.append([])
        return .dict(dicts.count - 1)
      case .rebuildTensorV2:
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        guard args.count == 6 || args.count == 7, case .storage(let storage) = args[0],
          let storageOffset = int(args[1]), let shape = ints(args[2]), let strides = ints(args[3]),
          shape.count == strides.count
        else {
          throw fail("_rebuild_tensor_v2 has unexpected arguments", at: offset)
        }
        return .tensor(try checkedTensor(storage, storageOffset, shape, strides, at: offset))
      case .rebuildParameter:
        guard args.count == 3, case .tensor = args[0] else {
          throw fail("_rebuild_parameter has unexpected arguments", at: offset)
        }
        return args[0]
      case .storageType:
        throw fail("storage classes may only appear in persistent ids", at: offset)
      }
    }

    func checkedTensor(
      _ storage: StorageRef, _ offset: Int, _ shape: [Int], _ strides: [Int], at position: Int
    ) throws
      -> TensorRef
    {
      guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
        throw fail("tensor has a negative offset, size or stride", at: position)
      }
      // The furthest element the view reaches must lie inside its storage.
      var last = offset
      var count = 1
      for (size, stride) in zip(shape, strides) {
        let (product, overflow1) = count.multipliedReportingOverflow(by: size)
        let (reach, overflow2) = (max(size, 1) - 1).multipliedReportingOverflow(by: stride)
        let (sum, overflow3) = last.addingReportingOverflow(reach)
        guard !overflow1, !overflow2, !overflow3 else {
          throw fail("tensor view overflows", at: position)
        }
        count = product
        last = sum
      }
      guard count == 0 || last < storage.elementCount else {
        throw fail(
          "tensor view (offset \(offset), shape \(shape), strides \(strides)) reaches past its storage of \(storage.elementCount) elements",
          at: position)
      }
      return TensorRef(storage: storage, offset: offset, shape: shape, strides: strides)
    }

    func storage(_ pid: Value, at offset: Int) throws -> StorageRef {
      guard let items = tupleItems(pid), items.count == 5, case .string("storage") = items[0],
        case .global(.storageType(let dtype)) = items[1], case .string(let key) = items[2],
        let count = int(items[4]), count >= 0
      else {
        throw fail(
          "persistent id is not ('storage', torch.<Type>Storage, key, location, numel)", at: offset)
      }
      return StorageRef(dtype: dtype, key: key, elementCount: count)
    }

    /// The root as an ordered list of (string key, tensor).
    func stateDict(_ root: Value) throws -> [(key: String, tensor: TensorRef)] {
      guard case .dict(let index) = root else {
        throw fail("root is not a dict (not a state dict)")
      }
      var result: [(key: String, tensor: TensorRef)] = []
      // Each key's position, so a file repeating keys a million times stays linear.
      var seen: [String: Int] = [:]
      for (keyValue, value) in dicts[index] {
        guard case .string(let key) = keyValue else {
          throw fail("state dict has a non-string key")
        }
        guard case .tensor(let tensor) = value else {
          throw fail("state dict entry '\(key)' is not a tensor")
        }
        if let existing = seen[key] {
          // Python dict semantics: a repeated key keeps its first position, takes the last value.
          result[existing].tensor = tensor
        } else {
          seen[key] = result.count
          result.append((key, tensor))
        }
      }
      return result
    }
  }
}

/// The element type of a legacy typed storage class (`torch.BFloat16Storage`...).
public enum TorchStorageType: String, Sendable, Hashable, CaseIterable {
  case float = "FloatStorage"
  case half = "HalfStorage"
  case bfloat16 = "BFloat16Storage"
  case double = "DoubleStorage"
  case long = "LongStorage"
  case int = "IntStorage"
  case short = "ShortStorage"
  case char = "CharStorage"
  case byte = "ByteStorage"
  case bool = "BoolStorage"

  init?(className: String) { self.init(rawValue: className) }

  /// Bytes per element.
  public var byteWidth: Int {
    switch self {
    case .double, .long: 8
    case .float, .int: 4
    case .half, .bfloat16, .short: 2
    case .char, .byte, .bool: 1
    }
  }

  /// The element type in safetensors spelling (`BF16`, `F16`, `F32`, `I64`...).
  public var dtypeName: String {
    switch self {
    case .float: "F32"
    case .half: "F16"
    case .bfloat16: "BF16"
    case .double: "F64"
    case .long: "I64"
    case .int: "I32"
    case .short: "I16"
    case .char: "I8"
    case .byte: "U8"
    case .bool: "BOOL"
    }
  }

  /// The weight storage type, or nil for types the engine does not read as weights.
  public var storageDType: StorageDType? {
    switch self {
    case .float: .f32
    case .half: .f16
    case .bfloat16: .bf16
    default: nil
    }
  }
}
