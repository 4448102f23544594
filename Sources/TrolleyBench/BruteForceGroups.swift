/// The dedupe's answer computed the slow way, to check the fast one (`trolley bench dedupe`):
/// exact copies by sha256 (keeper: the most pixels, then the lowest id), then every pair of kept
/// hashes within the distance, joined transitively. Quadratic: for tens of thousands of items.
enum BruteForceGroups {
  /// One item: its id, sha256, pixels and hash.
  struct Item: Sendable, Hashable {
    var id: Int64
    var sha256: String
    var pixels: Int64
    var hash: UInt64
  }

  /// The groups of two or more items, each as its members' ids sorted, sorted by first id.
  static func groups(_ items: [Item], distance: Int) -> [[Int64]] {
    var parent = Array(0..<items.count)
    func find(_ x: Int) -> Int {
      var root = x
      while parent[root] != root { root = parent[root] }
      return root
    }
    func union(_ a: Int, _ b: Int) {
      let (ra, rb) = (find(a), find(b))
      if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }
    var keeper: [String: Int] = [:]
    for index in items.indices {
      let item = items[index]
      if let current = keeper[item.sha256] {
        union(current, index)
        let best = items[current]
        if item.pixels > best.pixels || (item.pixels == best.pixels && item.id < best.id) {
          keeper[item.sha256] = index
        }
      } else {
        keeper[item.sha256] = index
      }
    }
    let kept = keeper.values.sorted()
    let hashes = kept.map { items[$0].hash }
    hashes.withUnsafeBufferPointer { h in
      for x in 0..<kept.count {
        let hx = h[x]
        for y in (x + 1)..<kept.count where (hx ^ h[y]).nonzeroBitCount <= distance {
          union(kept[x], kept[y])
        }
      }
    }
    var members: [Int: [Int64]] = [:]
    for index in items.indices { members[find(index), default: []].append(items[index].id) }
    return members.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
  }
}
