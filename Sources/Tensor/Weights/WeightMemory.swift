#if canImport(Glibc)
  internal import Glibc
#elseif canImport(Darwin)
  internal import Darwin
#endif

/// Large, long-lived weight buffers, mapped directly from the OS and, on Linux, backed by
/// transparent huge pages where the kernel allows it (`madvise` mode).
///
/// Why: repacking TroL-1.8B's 3.4 GB of 16-bit weights touches ~850k fresh 4 KiB pages, and the
/// page faults alone took seconds of system time at load (more in a VM, where each first touch
/// also faults in the hypervisor). 2 MiB pages cut the faults 512-fold, and the decode kernels'
/// weight streams then cross a TLB entry every 2 MiB instead of every 4 KiB.
enum WeightMemory {
  static let hugePageBytes = 2 << 20
  /// Smaller buffers come from the allocator, 64-byte aligned: rounding them up to whole huge
  /// pages would waste more than it saves.
  static let hugePageMinimum = 8 << 20

  /// At least `byteCount` bytes, 64-byte aligned (2 MiB aligned and rounded up to whole huge
  /// pages from `hugePageMinimum` on); release with `release`.
  static func allocate(byteCount: Int) -> UnsafeMutableRawBufferPointer {
    if byteCount < hugePageMinimum {
      return .allocate(byteCount: max(64, byteCount), alignment: 64)
    }
    let size = max(hugePageBytes, (byteCount + hugePageBytes - 1) / hugePageBytes * hugePageBytes)
    // Map one huge page more than needed so that a 2 MiB aligned start exists inside, then unmap
    // the slack on both sides.
    let span = size + hugePageBytes
    guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      raw != MAP_FAILED
    else {
      fatalError("WeightMemory: cannot map \(size) bytes for a weight (out of memory)")
    }
    let address = UInt(bitPattern: raw)
    let start = (address + UInt(hugePageBytes) - 1) & ~UInt(hugePageBytes - 1)
    let head = Int(start - address)
    if head > 0 { munmap(raw, head) }
    let tail = span - head - size
    if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + UInt(size)), tail) }
    let base = UnsafeMutableRawPointer(bitPattern: start)!
    #if os(Linux)
      _ = madvise(base, size, MADV_HUGEPAGE)
    #endif
    return UnsafeMutableRawBufferPointer(start: base, count: size)
  }

  /// Returns a buffer from `allocate`.
  static func release(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress else { return }
    if buffer.count >= hugePageMinimum {
      munmap(base, buffer.count)
    } else {
      buffer.deallocate()
    }
  }
}
