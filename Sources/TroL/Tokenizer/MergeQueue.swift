/// A binary heap of candidate merges shared by both BPE encoders. `Element.precedes` is the
/// reference's queue order; ties on the full order never involve two live entries, so any
/// stable-or-not heap pops merges in the reference's order.
protocol MergeCandidate {
  func precedes(_ other: Self) -> Bool
}

struct MergeQueue<Element: MergeCandidate> {
  private var items: ContiguousArray<Element> = []

  init(capacity: Int) { items.reserveCapacity(capacity) }

  var isEmpty: Bool { items.isEmpty }

  @inline(__always)
  mutating func push(_ element: Element) {
    items.append(element)
    items.withUnsafeMutableBufferPointer { h in
      var i = h.count - 1
      let moving = h[i]
      while i > 0 {
        let parent = (i - 1) >> 1
        if !moving.precedes(h[parent]) { break }
        h[i] = h[parent]
        i = parent
      }
      h[i] = moving
    }
  }

  @inline(__always)
  mutating func pop() -> Element {
    let last = items.removeLast()
    if items.isEmpty { return last }
    return items.withUnsafeMutableBufferPointer { h in
      let top = h[0]
      let n = h.count
      var i = 0
      while true {
        let l = 2 * i + 1
        if l >= n { break }
        var child = l
        if l + 1 < n && h[l + 1].precedes(h[l]) { child = l + 1 }
        if !h[child].precedes(last) { break }
        h[i] = h[child]
        i = child
      }
      h[i] = last
      return top
    }
  }
}
