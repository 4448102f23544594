internal import Foundation

/// GELU with the exact error function, as `torch.nn.functional.gelu` (approximate='none'):
/// x·½(1 + erf(x/√2)). In place over `count` floats.
public func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count {
    let v = x[i]
    x[i] = 0.5 * v * (1 + erf(v * 0.707_106_781_186_547_6))
  }
}

/// The scalar definition of `gelu` in f64, the reference for tests.
public func geluNaive(_ x: [Float]) -> [Float] {
  x.map { Float(0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot()))) }
}

/// CLIP's quick GELU, x·sigmoid(1.702x). In place over `count` floats.
public func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let v = load8(x + i)
    store8(v / (1 + exp8(v * -1.702)), x + i)
    i += 8
  }
  while i < count {
    x[i] = x[i] / (1 + exp(-1.702 * x[i]))
    i += 1
  }
}

/// The scalar definition of `quickGELU` in f64, the reference for tests.
public func quickGELUNaive(_ x: [Float]) -> [Float] {
  x.map { Float(Double($0) / (1 + exp(-1.702 * Double($0)))) }
}

/// SiLU, x·sigmoid(x). In place over `count` floats.
public func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let v = load8(x + i)
    store8(v / (1 + exp8(-v)), x + i)
    i += 8
  }
  while i < count {
    x[i] = x[i] / (1 + exp(-x[i]))
    i += 1
  }
}

/// The scalar definition of `silu` in f64, the reference for tests.
public func siluNaive(_ x: [Float]) -> [Float] {
  x.map { Float(Double($0) / (1 + exp(-Double($0)))) }
}

/// The SwiGLU product of Llama-family MLPs: output = silu(gate) ⊙ up, over `count` floats.
/// `output` may be `gate`.
public func swiGLU(
  _ output: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
  count: Int
) {
  var i = 0
  while i + 8 <= count {
    let g = load8(gate + i)
    store8(g / (1 + exp8(-g)) * load8(up + i), output + i)
    i += 8
  }
  while i < count {
    output[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
    i += 1
  }
}
