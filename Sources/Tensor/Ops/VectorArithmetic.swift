/// y += x over `count` floats (residual connections).
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    store8(load8(y + i) + load8(x + i), y + i)
    i += 8
  }
  while i < count {
    y[i] += x[i]
    i += 1
  }
}

/// y += x ⊙ scale, with `scale` repeating every `dim` floats (layer-scale vectors, biases).
public func addScaledRows(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>,
  rows: Int,
  dim: Int
) {
  for r in 0..<rows {
    let yr = y + r * dim
    let xr = x + r * dim
    for i in 0..<dim { yr[i] += xr[i] * scale[i] }
  }
}

/// y[r, :] += bias for every row (Linear biases).
public func addBias(
  _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, dim: Int
) {
  for r in 0..<rows { addInPlace(y + r * dim, bias, count: dim) }
}

/// The dot product of two `count`-float vectors.
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  var acc = Vector8()
  var i = 0
  while i + 8 <= count {
    acc += load8(a + i) * load8(b + i)
    i += 8
  }
  var sum = acc.sum()
  while i < count {
    sum += a[i] * b[i]
    i += 1
  }
  return sum
}

/// y = (1 − w)·a + w·b over `count` floats: the TroL mixer for one token.
public func mix(
  _ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
  weight w: Float,
  count: Int
) {
  var i = 0
  let keep = 1 - w
  while i + 8 <= count {
    store8(keep * load8(a + i) + w * load8(b + i), y + i)
    i += 8
  }
  while i < count {
    y[i] = keep * a[i] + w * b[i]
    i += 1
  }
}
