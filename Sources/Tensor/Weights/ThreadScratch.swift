#if canImport(Glibc)
  internal import Glibc
#elseif canImport(Darwin)
  internal import Darwin
#endif

/// A float buffer per thread for kernels that need working memory on every call (the quantized
/// m = 1 kernels' permuted activations, up to ~33 KiB for 8192-wide rows), reused from call to
/// call so a decode step allocates nothing once each thread has seen the widest row.
/// `withUnsafeTemporaryAllocation` is no substitute: on Linux it heap-allocates anything over
/// 1 KiB.
enum ThreadScratch {
  /// Bytes before the floats, holding the capacity; keeps the floats 64-byte aligned.
  private static let header = 64

  /// The calling thread's buffer: `header` bytes holding the capacity (in floats), then the
  /// floats. Freed when the thread exits.
  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { free($0) }
    precondition(status == 0, "ThreadScratch: pthread_key_create failed (\(status))")
    return key
  }()

  /// At least `count` floats owned by the calling thread, valid until the thread's next call:
  /// callers must not nest uses.
  static func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
    if let raw = pthread_getspecific(key) {
      if raw.load(as: Int.self) >= count {
        return (raw + header).assumingMemoryBound(to: Float.self)
      }
      free(raw)
    }
    let capacity = max(count, 1024)
    var allocated: UnsafeMutableRawPointer?
    let status = posix_memalign(&allocated, 64, header + 4 * capacity)
    guard status == 0, let raw = allocated else {
      fatalError("ThreadScratch: cannot allocate \(4 * capacity) bytes (out of memory)")
    }
    raw.storeBytes(of: capacity, as: Int.self)
    pthread_setspecific(key, raw)
    return (raw + header).bindMemory(to: Float.self, capacity: capacity)
  }
}
