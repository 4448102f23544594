internal import Foundation

/// Softmax in place over `count` floats, in f32 with the maximum subtracted first.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
  precondition(count > 0, "softmax: empty row")
  var maximum = -Float.infinity
  var i = 0
  if count >= 8 {
    var m = load8(x)
    i = 8
    while i + 8 <= count {
      let v = load8(x + i)
      // `replacing(with:where:)` compiles to a blend; the generic pointwiseMax was a call per vector.
      m.replace(with: v, where: v .> m)
      i += 8
    }
    maximum = m.max()
  }
  while i < count {
    maximum = max(maximum, x[i])
    i += 1
  }
  var sum = Vector8()
  var tail: Float = 0
  i = 0
  while i + 8 <= count {
    let e = exp8(load8(x + i) - maximum)
    store8(e, x + i)
    sum += e
    i += 8
  }
  while i < count {
    let e = exp(x[i] - maximum)
    x[i] = e
    tail += e
    i += 1
  }
  let inverse = 1 / (sum.sum() + tail)
  i = 0
  while i + 8 <= count {
    store8(load8(x + i) * inverse, x + i)
    i += 8
  }
  while i < count {
    x[i] *= inverse
    i += 1
  }
}

/// The scalar definition of `softmax` in f64, the reference for tests.
public func softmaxNaive(_ x: [Float]) -> [Float] {
  let maximum = Double(x.max() ?? 0)
  let e = x.map { exp(Double($0) - maximum) }
  let sum = e.reduce(0, +)
  return e.map { Float($0 / sum) }
}

/// log(softmax(x)) in place over `count` floats (what beam search scores with).
public func logSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
  var maximum = -Float.infinity
  for i in 0..<count { maximum = max(maximum, x[i]) }
  var sum: Float = 0
  for i in 0..<count { sum += exp(x[i] - maximum) }
  let logSum = log(sum)
  for i in 0..<count { x[i] = x[i] - maximum - logSum }
}
