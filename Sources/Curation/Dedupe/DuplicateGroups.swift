/// Union-find over the items that have near-duplicate edges, and the choice of one representative
/// per group: the most pixels, then the lowest id.
///
/// Memory is proportional to the items that appear in edges, not to the dataset: items without
/// any edge are never added.
public struct DuplicateGroups: Sendable {
  private var index: [Int64: Int32] = [:]
  private var ids: [Int64] = []
  private var parent: [Int32] = []
  private var size: [Int32] = []

  public init() {}

  private mutating func slot(_ id: Int64) -> Int32 {
    if let existing = index[id] { return existing }
    let slot = Int32(ids.count)
    index[id] = slot
    ids.append(id)
    parent.append(slot)
    size.append(1)
    return slot
  }

  private mutating func find(_ x: Int32) -> Int32 {
    var root = x
    while parent[Int(root)] != root { root = parent[Int(root)] }
    var node = x
    while parent[Int(node)] != root {
      let next = parent[Int(node)]
      parent[Int(node)] = root
      node = next
    }
    return root
  }

  /// Records that `a` and `b` are near duplicates.
  public mutating func union(_ a: Int64, _ b: Int64) {
    let ra = find(slot(a))
    let rb = find(slot(b))
    if ra == rb { return }
    // The smaller tree goes under the larger: depth stays logarithmic.
    if size[Int(ra)] < size[Int(rb)] {
      parent[Int(ra)] = rb
      size[Int(rb)] += size[Int(ra)]
    } else {
      parent[Int(rb)] = ra
      size[Int(ra)] += size[Int(rb)]
    }
  }

  /// Items seen in at least one edge.
  public var memberCount: Int { ids.count }

  /// The groups (each with two or more members), members sorted by id, groups by first member.
  public mutating func groups() -> [[Int64]] {
    var byRoot: [Int32: [Int64]] = [:]
    for slot in 0..<ids.count {
      byRoot[find(Int32(slot)), default: []].append(ids[slot])
    }
    return byRoot.values.map { $0.sorted() }.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
  }

  /// The representative of a group: the most pixels, then the lowest id.
  public static func representative(of members: [(id: Int64, pixels: Int64)]) -> Int64? {
    members.min { a, b in a.pixels != b.pixels ? a.pixels > b.pixels : a.id < b.id }?.id
  }
}
