internal import Foundation
internal import TrolleyBasics

/// Picks the next token from one row of logits: greedy argmax or seeded sampling with temperature,
/// top-k and top-p as Hugging Face's warpers apply them (in that order).
struct TokenSampler {
  private var random: SplitMix64?
  private let temperature: Float
  private let topP: Float
  private let topK: Int?
  /// Reused per call: candidate ids and their probabilities.
  private var order: [Int] = []
  private var probabilities: [Float] = []

  init(strategy: GenerationOptions.Strategy) {
    switch strategy {
    case .sampling(let temperature, let topP, let topK, let seed):
      random = SplitMix64(seed: seed)
      self.temperature = temperature
      self.topP = topP
      self.topK = topK
    case .greedy, .beamSearch:
      random = nil
      temperature = 1
      topP = 1
      topK = nil
    }
  }

  /// The index of the largest logit (the first one on ties, like `torch.argmax`).
  static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    var bestValue = logits[0]
    for i in 1..<logits.count where logits[i] > bestValue {
      best = i
      bestValue = logits[i]
    }
    return best
  }

  mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int {
    guard var generator = random else { return Self.argmax(logits) }
    defer { random = generator }
    let V = logits.count
    // Temperature, then the top-k filter (ties at the k-th value are kept, as HF's `< kth` test does).
    order.removeAll(keepingCapacity: true)
    order.append(contentsOf: 0..<V)
    order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    var kept = V
    if let topK, topK < V {
      let threshold = logits[order[topK - 1]]
      kept = topK
      while kept < V, logits[order[kept]] >= threshold { kept += 1 }
    }
    // Softmax over the kept tokens.
    let maximum = logits[order[0]] / temperature
    probabilities.removeAll(keepingCapacity: true)
    var total: Float = 0
    for i in 0..<kept {
      let p = exp(logits[order[i]] / temperature - maximum)
      probabilities.append(p)
      total += p
    }
    for i in 0..<kept { probabilities[i] /= total }
    // Top-p: drop the least likely tokens whose cumulative probability (from the bottom) stays
    // at or below 1 − topP; the most likely token always stays.
    if topP < 1 {
      var cumulative: Float = 0
      var cut = kept
      for i in stride(from: kept - 1, through: 1, by: -1) {
        cumulative += probabilities[i]
        if cumulative <= 1 - topP { cut = i } else { break }
      }
      kept = cut
      let mass = probabilities[0..<kept].reduce(0, +)
      for i in 0..<kept { probabilities[i] /= mass }
    }
    // Inverse-CDF draw.
    let u = Float(generator.next() >> 40) / Float(1 << 24)
    var cumulative: Float = 0
    for i in 0..<kept {
      cumulative += probabilities[i]
      if u < cumulative { return order[i] }
    }
    return order[kept - 1]
  }
}
