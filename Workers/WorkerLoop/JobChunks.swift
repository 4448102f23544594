/// How a kind's claimed jobs are cut into engine batches: jobs that share a key (for the TroL
/// kinds, the image) go into the same chunk, so that the engine decodes and encodes the image
/// once and computes its prompt prefix once for all of its questions, even when the jobs were
/// enqueued apart and claimed between others.
public enum JobChunks {
  /// Chunks of at most `size` indices into `keys`, covering each index once.
  ///
  /// Jobs with equal non-nil keys form a group (in order of first appearance; nil keys are groups
  /// of one). A group larger than `size` fills whole chunks first; the rest of every group is
  /// placed whole into the first chunk with room for it, largest rests first, so a group is split
  /// only when it is larger than a chunk. Within a chunk, indices keep their claim order.
  public static func plan(keys: [String?], size: Int) -> [[Int]] {
    precondition(size >= 1, "JobChunks.plan: chunk size \(size)")
    var groups: [[Int]] = []
    var groupOfKey: [String: Int] = [:]
    for (index, key) in keys.enumerated() {
      if let key, let g = groupOfKey[key] {
        groups[g].append(index)
      } else {
        if let key { groupOfKey[key] = groups.count }
        groups.append([index])
      }
    }
    var chunks: [[Int]] = []
    var rests: [[Int]] = []
    for group in groups {
      let whole = group.count / size * size
      var start = 0
      while start < whole {
        chunks.append(Array(group[start..<(start + size)]))
        start += size
      }
      if whole < group.count { rests.append(Array(group[whole...])) }
    }
    // First fit, largest first; the sort is stable, so equal sizes keep their claim order.
    let open = chunks.count
    for rest in rests.enumerated().sorted(by: {
      $0.element.count != $1.element.count
        ? $0.element.count > $1.element.count : $0.offset < $1.offset
    }).map(\.element) {
      if let c = chunks[open...].firstIndex(where: { $0.count + rest.count <= size }) {
        chunks[c] += rest
      } else {
        chunks.append(rest)
      }
    }
    return chunks.map { $0.sorted() }
  }
}
