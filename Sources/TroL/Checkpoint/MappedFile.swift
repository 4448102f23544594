import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A whole file mapped read-only into memory.
///
/// Tensor views point straight into the mapping, so nothing is copied at load time; the mapping
/// lives as long as this object (views keep it alive through `RawTensorData.owner`).
final class MappedFile: @unchecked Sendable {
  let path: String
  /// The file's bytes; empty (with a nil base) for an empty file, which `mmap` cannot map.
  let bytes: UnsafeRawBufferPointer
  private let mapping: UnsafeMutableRawPointer?

  /// Maps `path` read-only.
  ///
  /// - Throws: `TroLError.io` if the file cannot be opened, inspected or mapped.
  init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw TroLError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw TroLError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw TroLError(.io, "\(path) is not a regular file")
    }
    let size = Int(info.st_size)
    if size == 0 {
      mapping = nil
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let address, address != MAP_FAILED else {
      throw TroLError(
        .io, "cannot map \(path) (\(size) bytes): \(String(cString: strerror(errno)))")
    }
    mapping = address
    bytes = UnsafeRawBufferPointer(start: address, count: size)
    // Every checkpoint file is read through here: a git-LFS pointer is named as such.
    try GitLFSPointer.check(bytes, path: path)
  }

  deinit {
    if let mapping { munmap(mapping, bytes.count) }
  }
}
