/// One edge chunk's merges in the union-find whose labels live in PostgreSQL.
///
/// Every item in a group carries its group's label; a chunk of edges joins labels. Here the
/// labels of one chunk are joined in memory, and each joined set keeps the label of its largest
/// group (then the lowest label): the others are relabelled, so an item moves only when its
/// group at least doubles, at most log2 N times. Memory is the chunk's labels, never the dataset.
public struct GroupMerge: Sendable {
  private var parent: [Int64: Int64] = [:]
  private var sizes: [Int64: Int64]

  /// - Parameter sizes: the current size of each label the chunk touches (1 for new items).
  public init(sizes: [Int64: Int64]) {
    self.sizes = sizes
  }

  private mutating func find(_ label: Int64) -> Int64 {
    var root = label
    while let next = parent[root], next != root { root = next }
    var node = label
    while let next = parent[node], next != root {
      parent[node] = root
      node = next
    }
    return root
  }

  /// Joins the groups labelled `a` and `b`.
  public mutating func union(_ a: Int64, _ b: Int64) {
    let ra = find(a)
    let rb = find(b)
    if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
  }

  /// One relabelling: every item labelled `from` moves to `to`.
  public struct Relabel: Sendable, Hashable {
    public var from: Int64
    public var to: Int64
  }

  /// The relabellings, and the new size of each surviving label that grew.
  public mutating func result() -> (relabels: [Relabel], sizes: [Int64: Int64]) {
    // Roots never get a parent entry, but each appears as some entry's parent.
    var labels = Set(parent.keys)
    labels.formUnion(parent.values)
    var members: [Int64: [Int64]] = [:]
    for label in labels { members[find(label), default: []].append(label) }
    var relabels: [Relabel] = []
    var grown: [Int64: Int64] = [:]
    for labels in members.values {
      guard
        let winner = labels.min(by: { a, b in
          let (sa, sb) = (sizes[a] ?? 1, sizes[b] ?? 1)
          return sa != sb ? sa > sb : a < b
        })
      else { continue }
      var total: Int64 = 0
      for label in labels {
        total += sizes[label] ?? 1
        if label != winner { relabels.append(Relabel(from: label, to: winner)) }
      }
      grown[winner] = total
    }
    relabels.sort { $0.from < $1.from }
    return (relabels, grown)
  }
}
