internal import Foundation

/// torch.optim.AdamW (single-tensor path): decoupled weight decay, bias-corrected moments.
///
///     p ← p(1 − lr·wd);  m ← m + (1−β1)(g − m);  v ← β2·v + (1−β2)g²
///     p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
///
/// Scalars (step size, bias corrections) are computed in f64 as Python does; moments are kept in
/// the run's precision.
public final class AdamW<T: Real>: @unchecked Sendable {
  public struct Settings: Sendable, Codable, Hashable {
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0.01
    public init(
      beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0.01
    ) {
      self.beta1 = beta1
      self.beta2 = beta2
      self.eps = eps
      self.weightDecay = weightDecay
    }
  }

  public let settings: Settings
  public let parameters: [Parameter<T>]
  /// First and second moments, one buffer per parameter.
  public let m: [Buffer<T>]
  public let v: [Buffer<T>]
  /// Steps taken (t of the bias correction).
  public var step = 0

  public init(parameters: [Parameter<T>], settings: Settings = Settings()) {
    self.parameters = parameters
    self.settings = settings
    m = parameters.map { Buffer<T>($0.count) }
    v = parameters.map { Buffer<T>($0.count) }
  }

  /// One update with learning rate `lr` from the parameters' current gradients.
  @_specialize(where T == Float)
  public func update(lr: Double) {
    step += 1
    let s = settings
    let decay = T(1 - lr * s.weightDecay)
    let b1 = T(s.beta1)
    let b2 = T(s.beta2)
    let correction1 = 1 - pow(s.beta1, Double(step))
    let correction2 = 1 - pow(s.beta2, Double(step))
    let stepSize = T(lr / correction1)
    let correction2Root = T(correction2.squareRoot())
    let eps = T(s.eps)
    for (k, p) in parameters.enumerated() {
      let value = p.value.p
      let grad = p.grad.p
      let mk = m[k].p
      let vk = v[k].p
      for i in 0..<p.count {
        value[i] *= decay
        let g = grad[i]
        mk[i] += (1 - b1) * (g - mk[i])
        vk[i] = vk[i] * b2 + (1 - b2) * g * g
        let denominator = vk[i].squareRoot() / correction2Root + eps
        value[i] -= stepSize * (mk[i] / denominator)
      }
    }
  }
}

/// Learning rate per optimizer step: linear warmup to `peak`, then a cosine down to `floor` at
/// `totalSteps` (TroL's recipe: 1e-4 to 1e-6 within each training step).
public struct CosineSchedule: Sendable, Codable, Hashable {
  public var peak: Double
  public var floor: Double
  public var warmupSteps: Int
  public var totalSteps: Int

  public init(peak: Double, floor: Double, warmupSteps: Int, totalSteps: Int) {
    self.peak = peak
    self.floor = floor
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
  }

  /// The rate of step s (0-based).
  public func rate(at s: Int) -> Double {
    if s < warmupSteps { return peak * Double(s + 1) / Double(warmupSteps) }
    let span = max(totalSteps - warmupSteps, 1)
    let progress = min(Double(s - warmupSteps) / Double(span), 1)
    return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
  }
}

/// Scales every gradient so their global L2 norm is at most `maxNorm` (torch's clip_grad_norm_:
/// coefficient maxNorm/(norm + 1e-6), applied only when below 1). Returns the norm before clipping.
@discardableResult
@_specialize(where T == Float)
public func clipGradients<T: Real>(_ parameters: [Parameter<T>], maxNorm: Double) -> Double {
  var sum: Double = 0
  for p in parameters {
    for i in 0..<p.count {
      let g = Double(p.grad.p[i])
      sum += g * g
    }
  }
  let norm = sum.squareRoot()
  let coefficient = maxNorm / (norm + 1e-6)
  if coefficient < 1 {
    let c = T(coefficient)
    for p in parameters { for i in 0..<p.count { p.grad.p[i] *= c } }
  }
  return norm
}
