internal import Foundation
internal import Tensor

/// Beam search for one prompt with the scoring of Hugging Face transformers 4.41
/// (`BeamSearchScorer` + `BeamHypotheses`, length_penalty 1.0, early_stopping false):
///
/// - each step, every beam's log-softmax plus its running score; the best 2·beams candidates over
///   all beams, in descending order;
/// - a stop token among the first `beams` candidates closes a hypothesis scored
///   sum_logprobs / generated_length (its length counting the stop token); other candidates
///   continue as the next beams until `beams` are chosen;
/// - done when `beams` hypotheses exist and the worst is at least the best candidate's score
///   divided by the current length; at the length limit the open beams become hypotheses too;
/// - the answer is the best-scoring hypothesis.
struct BeamSearch {
  struct Hypothesis {
    var tokens: [Int]
    var score: Double
    var endedWithStop: Bool
  }

  let beams: Int
  let stopTokens: Set<Int>
  let maxNewTokens: Int
  /// Generated tokens of each open beam (all the same length).
  private(set) var sequences: [[Int]]
  /// Running sum of log-probabilities of each open beam.
  private(set) var scores: [Float]
  private var hypotheses: [Hypothesis] = []
  private var worstScore = 1e9
  private(set) var isDone = false
  /// After `step`: for each new beam, the index of the old beam it extends.
  private(set) var sourceBeams: [Int] = []
  private var row: [Float] = []

  init(beams: Int, stopTokens: Set<Int>, maxNewTokens: Int) {
    self.beams = beams
    self.stopTokens = stopTokens
    self.maxNewTokens = maxNewTokens
    sequences = Array(repeating: [], count: beams)
    // All beams start equal; only beam 0 counts at the first step (HF sets the others to −1e9).
    scores = [0] + Array(repeating: -1e9, count: beams - 1)
  }

  /// The generated length so far (of every open beam).
  var length: Int { sequences[0].count }

  /// Advances one step from the logits of each open beam ([beams, V]; at the first step a single
  /// row may be given, shared by all beams).
  mutating func step(logits: UnsafeBufferPointer<Float>, vocabulary V: Int) {
    let rows = logits.count / V
    let keep = max(2, 1 + stopTokens.count) * beams
    // Candidates: each beam's best `keep` tokens are enough to find the best `keep` overall.
    var candidates: [(score: Float, beam: Int, token: Int)] = []
    candidates.reserveCapacity(keep * beams)
    for b in 0..<beams {
      let source = rows == 1 ? 0 : b
      row.removeAll(keepingCapacity: true)
      row.append(contentsOf: logits[(source * V)..<((source + 1) * V)])
      row.withUnsafeMutableBufferPointer { logSoftmax($0.baseAddress!, count: V) }
      let base = scores[b]
      var best: [(Float, Int)] = []
      for t in 0..<V {
        let s = row[t] + base
        if best.count < keep {
          best.append((s, t))
          if best.count == keep { best.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) } }
        } else if s > best[keep - 1].0 {
          var i = keep - 1
          best[i] = (s, t)
          while i > 0, best[i].0 > best[i - 1].0 {
            best.swapAt(i, i - 1)
            i -= 1
          }
        }
      }
      if best.count < keep { best.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) } }
      for (s, t) in best { candidates.append((s, b, t)) }
    }
    candidates.sort {
      ($0.score, -($0.beam * V + $0.token)) > ($1.score, -($1.beam * V + $1.token))
    }
    let top = candidates.prefix(keep)
    // generated_len in HF's `process`: the length the candidates' scores were computed on.
    let generatedLength = length + 1
    var nextSequences: [[Int]] = []
    var nextScores: [Float] = []
    var nextSources: [Int] = []
    for (rank, candidate) in top.enumerated() {
      if stopTokens.contains(candidate.token) {
        if rank >= beams { continue }
        add(
          Hypothesis(
            tokens: sequences[candidate.beam] + [candidate.token],
            score: Double(candidate.score) / Double(generatedLength), endedWithStop: true))
      } else {
        nextSequences.append(sequences[candidate.beam] + [candidate.token])
        nextScores.append(candidate.score)
        nextSources.append(candidate.beam)
      }
      if nextSequences.count == beams { break }
    }
    let bestCandidate = Double(top.first!.score)
    if hypotheses.count >= beams, worstScore >= bestCandidate / Double(generatedLength) {
      isDone = true
    }
    sequences = nextSequences
    scores = nextScores
    sourceBeams = nextSources
    if length >= maxNewTokens, !isDone {
      // The length limit: every open beam becomes a hypothesis (HF `finalize`).
      for b in 0..<beams {
        add(
          Hypothesis(
            tokens: sequences[b], score: Double(scores[b]) / Double(length), endedWithStop: false))
      }
      isDone = true
    }
  }

  /// The best hypothesis (on equal scores, the one added last, as Python's stable sort + pop).
  var best: Hypothesis? {
    var result: Hypothesis?
    for h in hypotheses where result == nil || h.score >= result!.score { result = h }
    return result
  }

  /// All hypotheses, best first.
  var ranked: [Hypothesis] {
    hypotheses.enumerated().sorted { ($0.element.score, $0.offset) > ($1.element.score, $1.offset) }
      .map(\.element)
  }

  private mutating func add(_ hypothesis: Hypothesis) {
    guard hypotheses.count < beams || hypothesis.score > worstScore else { return }
    hypotheses.append(hypothesis)
    if hypotheses.count > beams {
      let sorted = hypotheses.enumerated().sorted {
        ($0.element.score, $0.offset) < ($1.element.score, $1.offset)
      }
      hypotheses.remove(at: sorted[0].offset)
      worstScore = sorted[1].element.score
    } else {
      worstScore = min(hypothesis.score, worstScore)
    }
  }
}
