/// Several questions about one image in one sequence: the rows every question shares (system
/// prompt, image, the start of the user turn) once, then each question's own rows (the rest of
/// its prompt, its answer), one segment after the other.
///
/// A segment's rows see the shared prefix and the rows of their own segment before them, never
/// another segment's, and sit at the positions they would have alone (prefix + offset). So the
/// packed sample's loss and gradients are exactly the sum of the single samples' (a test checks
/// it in f64), while the vision tower and the shared rows are computed once instead of once per
/// question: on easy-vqa (about ten questions per image) a packed sample is ~5x cheaper per
/// question.
public struct SamplePacking: Sendable, Equatable {
  /// Rows 0..<prefix are shared by every segment.
  public var prefix: Int
  /// Where each segment starts (ascending, the first at `prefix`); a segment runs to the next
  /// start or to the end of the sequence.
  public var segmentStarts: [Int]

  public init(prefix: Int, segmentStarts: [Int]) {
    self.prefix = prefix
    self.segmentStarts = segmentStarts
  }

  /// The start of the segment that holds row r (0 for prefix rows).
  func segmentStart(row r: Int) -> Int {
    guard r >= prefix else { return 0 }
    var start = prefix
    for s in segmentStarts where s <= r { start = s }
    return start
  }

  /// Each row's position: its index in the prefix, prefix + its offset in its segment after it.
  public func positions(rows N: Int) -> [Int] {
    (0..<N).map { r in r < prefix ? r : prefix + r - segmentStart(row: r) }
  }

  /// The longest sequence one question sees (prefix + its segment): the length a single sample
  /// of it would have.
  public func longestQuestionSequence(rows N: Int) -> Int {
    var longest = prefix
    for (i, start) in segmentStarts.enumerated() {
      let end = i + 1 < segmentStarts.count ? segmentStarts[i + 1] : N
      longest = max(longest, prefix + end - start)
    }
    return longest
  }
}

/// The columns a packed sample hides from each row (another segment's rows before it).
struct AttentionMask {
  let prefix: Int
  let starts: [Int]

  init(packing: SamplePacking, rows N: Int) {
    prefix = packing.prefix
    starts = (0..<N).map { packing.segmentStart(row: $0) }
  }

  /// Columns hidden from row r: from the prefix's end to its own segment's start.
  @inline(__always)
  func hidden(row r: Int) -> Range<Int> {
    let start = starts[r]
    return start > prefix ? prefix..<start : 0..<0
  }
}

extension TrainingSample {
  /// One sample holding `samples`, which are single questions about the same image (the same
  /// pixels or features): their longest common token prefix is shared, capped so that every
  /// question keeps at least its last prompt row (the row that predicts its first answer token).
  /// The image rows come before the question, so they are in the prefix; a sample whose image
  /// rows were not would repeat them, and the runner rejects it by its image-row count.
  ///
  /// - Throws: `TrainingError` when the samples are not about the same image or share no prompt.
  public static func packed(_ samples: [TrainingSample]) throws -> TrainingSample {
    guard let first = samples.first else { throw TrainingError("nothing to pack") }
    if samples.count == 1 { return first }
    for sample in samples.dropFirst()
    where sample.pixels != first.pixels || sample.visionFeatures != first.visionFeatures {
      throw TrainingError("packed questions must be about the same image")
    }
    for sample in samples where sample.packing != nil {
      throw TrainingError("a packed sample cannot be packed again")
    }
    var prefix = first.ids.count
    for sample in samples {
      var common = 0
      while common < min(prefix, sample.ids.count) && sample.ids[common] == first.ids[common] {
        common += 1
      }
      // labels[i] is token i's target, predicted by row i − 1: that row stays in the segment.
      let firstLabel = sample.labels.firstIndex { $0 != -100 } ?? sample.ids.count
      prefix = min(common, firstLabel - 1)
    }
    guard prefix > 0 else { throw TrainingError("the packed questions share no prompt") }
    var ids = Array(first.ids[0..<prefix])
    var labels = Array(first.labels[0..<prefix])
    var starts: [Int] = []
    for sample in samples {
      starts.append(ids.count)
      ids += sample.ids[prefix...]
      labels += sample.labels[prefix...]
    }
    return TrainingSample(
      ids: ids, labels: labels, visionFeatures: first.visionFeatures, pixels: first.pixels,
      packing: SamplePacking(prefix: prefix, segmentStarts: starts))
  }
}
