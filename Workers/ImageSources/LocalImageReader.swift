import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Reads one local image file for a job, blocking (run it on a thread of its own): only a regular
/// file, only under the policy's roots, never more than the byte limit.
///
/// The path is resolved (symbolic links and `..` included) before it is compared with the roots,
/// and the resolved path is opened with `O_NOFOLLOW`, so a link swapped in between is refused
/// rather than followed. `O_NONBLOCK` makes opening a FIFO return at once instead of waiting for
/// a writer; `fstat` on the open descriptor then refuses anything that is not a regular file
/// (FIFOs, devices, sockets, `/proc/self/fd/...` pipes).
struct LocalImageReader {
  let policy: ImageFetcher.Policy

  func read(_ path: String) -> Result<[UInt8], ImageFetchError> {
    guard !policy.localRoots.isEmpty else {
      return .failure(
        ImageFetchError(
          .notAllowed,
          "the image \(path) is a local file, and this worker reads local files only under the folders given with --image-root DIR (or image_roots in the configuration file)",
          retryable: false))
    }
    guard let resolved = Self.realPath(path) else {
      if errno == ENOENT || errno == ENOTDIR {
        return .failure(
          ImageFetchError(
            .notFound,
            "image not found: \(path) (check the path; relative paths are resolved from the worker's directory)",
            retryable: false))
      }
      return .failure(
        ImageFetchError(
          .unreadable, "cannot read image \(path): \(String(cString: strerror(errno)))",
          retryable: false))
    }
    let roots = policy.localRoots.compactMap(Self.realPath)
    guard roots.contains(where: { Self.path(resolved, isUnder: $0) }) else {
      return .failure(
        ImageFetchError(
          .notAllowed,
          "the image \(path) is outside this worker's image roots (\(policy.localRoots.joined(separator: ", "))); add its folder with --image-root DIR",
          retryable: false))
    }
    let descriptor = open(resolved, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)
    guard descriptor >= 0 else {
      let code = errno
      if code == ELOOP {
        return .failure(
          ImageFetchError(
            .notAllowed, "the image \(path) changed into a symbolic link while being opened",
            retryable: false))
      }
      return .failure(
        ImageFetchError(
          .unreadable, "cannot open image \(path): \(String(cString: strerror(code)))",
          retryable: false))
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      return .failure(
        ImageFetchError(
          .unreadable, "cannot read image \(path): \(String(cString: strerror(errno)))",
          retryable: false))
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR {
      return .failure(
        ImageFetchError(
          .unreadable, "image path \(path) is a directory, not a file", retryable: false))
    }
    guard kind == S_IFREG else {
      return .failure(
        ImageFetchError(
          .notAllowed,
          "the image \(path) is not a regular file (a FIFO, device or socket); only regular files are read",
          retryable: false))
    }
    if Int(info.st_size) > policy.maxBytes {
      return .failure(
        ImageFetchError(
          .tooLarge,
          "image \(path) is \(info.st_size) bytes, over the \(policy.maxBytes)-byte limit",
          retryable: false))
    }
    // The file may grow while it is read: read at most one byte past the limit to notice.
    let capacity = min(Int(info.st_size), policy.maxBytes) + 1
    var bytes = [UInt8](repeating: 0, count: capacity)
    var count = 0
    while count < capacity {
      let got = bytes.withUnsafeMutableBytes { buffer in
        Glibc.read(descriptor, buffer.baseAddress! + count, capacity - count)
      }
      if got == 0 { break }
      if got < 0 {
        if errno == EINTR { continue }
        return .failure(
          ImageFetchError(
            .unreadable, "cannot read image \(path): \(String(cString: strerror(errno)))",
            retryable: false))
      }
      count += got
    }
    if count == 0 {
      return .failure(ImageFetchError(.empty, "image \(path) is an empty file", retryable: false))
    }
    if count > policy.maxBytes {
      return .failure(
        ImageFetchError(
          .tooLarge, "image \(path) is over the \(policy.maxBytes)-byte limit", retryable: false))
    }
    bytes.removeSubrange(count...)
    return .success(bytes)
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  static func path(_ path: String, isUnder root: String) -> Bool {
    root == "/" || path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
  }
}
