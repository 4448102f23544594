/// The iteration order CPython 3.8–3.12 gives a `set` of small non-negative integer pairs.
///
/// TroL-3.8B builds its candidate tile grids as a set of `(i, j)` tuples and then sorts them by
/// `i * j` with a stable sort, so among grids of equal area the set's order decides which one wins
/// a tie. That order is deterministic (integer and tuple hashes are not randomized) and is
/// reproduced here from CPython's tuple hash (xxHash-based) and its open-addressing set table
/// (linear probes of 9, then perturbed probing; growth to 4× the used count at 60% fill).
enum PythonSetOrder {
  /// The pairs in the order `for x in set(pairs)` yields them (duplicates removed).
  static func iterationOrder(of pairs: [(Int, Int)]) -> [(Int, Int)] {
    var table = [Entry?](repeating: nil, count: 8)
    var fill = 0
    for pair in pairs {
      let hash = tupleHash(pair)
      if insert(Entry(key: pair, hash: hash), into: &table, checkingDuplicates: true) {
        fill += 1
        let mask = table.count - 1
        if fill * 5 >= mask * 3 {
          let used = fill
          var size = 8
          while size <= used * 4 { size <<= 1 }
          var grown = [Entry?](repeating: nil, count: size)
          for case let entry? in table {
            _ = insert(entry, into: &grown, checkingDuplicates: false)
          }
          table = grown
        }
      }
    }
    return table.compactMap { $0?.key }
  }

  private struct Entry {
    var key: (Int, Int)
    var hash: UInt64
  }

  private static let linearProbes = 9
  private static let perturbShift: UInt64 = 5

  /// Returns false when the key was already present.
  private static func insert(
    _ entry: Entry, into table: inout [Entry?], checkingDuplicates: Bool
  ) -> Bool {
    let mask = UInt64(table.count - 1)
    var perturb = entry.hash
    var i = entry.hash & mask
    while true {
      var probes = i + UInt64(linearProbes) <= mask ? linearProbes : 0
      var slot = Int(i)
      while true {
        guard let existing = table[slot] else {
          table[slot] = entry
          return true
        }
        if checkingDuplicates && existing.hash == entry.hash && existing.key == entry.key {
          return false
        }
        if probes == 0 { break }
        probes -= 1
        slot += 1
      }
      perturb >>= perturbShift
      i = (i &* 5 &+ 1 &+ perturb) & mask
    }
  }

  /// CPython's `tuplehash` for a pair of small non-negative ints (whose hash is their value).
  private static func tupleHash(_ pair: (Int, Int)) -> UInt64 {
    let prime1: UInt64 = 11_400_714_785_074_694_791
    let prime2: UInt64 = 14_029_467_366_897_019_727
    let prime5: UInt64 = 2_870_177_450_012_600_261
    var accumulator = prime5
    for lane in [UInt64(pair.0), UInt64(pair.1)] {
      accumulator = accumulator &+ lane &* prime2
      accumulator = (accumulator << 31) | (accumulator >> 33)
      accumulator = accumulator &* prime1
    }
    accumulator = accumulator &+ (2 ^ (prime5 ^ 3_527_539))
    return accumulator == UInt64.max ? 1_546_275_796 : accumulator
  }
}
