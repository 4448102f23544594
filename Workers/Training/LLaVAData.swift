import Foundation
public import Training
import TrolleyBasics

/// Reads a LLaVA JSON export (`[{"id", "image", "conversations": [{"from": "human", "value":
/// "<image>\n…"}, {"from": "gpt", "value": "…"}]}]`) into training samples: each human turn
/// followed by a gpt turn is a question (the `<image>` marker removed) and its answer; images are
/// relative to the JSON's folder or absolute. Which of an entry's questions train is the run's
/// `--turns`: the first only, or each as its own question on the image, packed into one sample
/// (`TrainingSample.packed`).
public enum LLaVAData {
  struct Turn: Decodable {
    var from: String
    var value: String
  }
  struct Entry: Decodable {
    var id: String?
    var image: String?
    var conversations: [Turn]

    enum CodingKeys: String, CodingKey { case id, image, conversations }
    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      // Exports write string ids; hand-made files often number them.
      if let text = try? c.decodeIfPresent(String.self, forKey: .id) {
        id = text
      } else if let number = try? c.decodeIfPresent(Int64.self, forKey: .id) {
        id = String(number)
      } else {
        id = nil
      }
      image = try c.decodeIfPresent(String.self, forKey: .image)
      conversations = try c.decode([Turn].self, forKey: .conversations)
    }
  }

  public struct Example: Sendable, Equatable {
    /// The entry's id (its index in the file when it has none).
    public var id: String
    public var image: String?
    /// The first question and its answer.
    public var question: String
    public var answer: String
    /// Every question and answer of the entry, the first included, in order.
    public var turns: [Turn]

    public struct Turn: Sendable, Equatable {
      public var question: String
      public var answer: String
    }

    /// The questions `mode` trains on.
    public func turns(_ mode: TrainingTurns) -> [Turn] {
      mode == .each ? turns : Array(turns.prefix(1))
    }
  }

  /// The examples of `path`, in file order.
  /// - Throws: `TrainingError` naming the file and what is wrong with it.
  public static func examples(path: String) throws -> [Example] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError("cannot read the LLaVA data file \(path)")
    }
    let entries: [Entry]
    do {
      entries = try JSONDecoder().decode([Entry].self, from: data)
    } catch {
      throw TrainingError(
        "\(path) is not a LLaVA JSON export (an array of {id, image, conversations}): \(error)")
    }
    let folder = (path as NSString).deletingLastPathComponent
    return try entries.enumerated().map { index, entry in
      var turns: [Example.Turn] = []
      var i = 0
      let conversation = entry.conversations
      while i < conversation.count {
        if conversation[i].from == "human", i + 1 < conversation.count,
          conversation[i + 1].from == "gpt"
        {
          var question = conversation[i].value
          for marker in ["<image>\n", "\n<image>", "<image>"] {
            question = question.replacingOccurrences(of: marker, with: "")
          }
          turns.append(Example.Turn(question: question, answer: conversation[i + 1].value))
          i += 2
        } else {
          i += 1
        }
      }
      guard let first = turns.first else {
        throw TrainingError(
          "\(path): entry \(index) has no human turn followed by a gpt turn")
      }
      let image = entry.image.map { $0.hasPrefix("/") ? $0 : folder + "/" + $0 }
      return Example(
        id: entry.id ?? String(index), image: image, question: first.question,
        answer: first.answer, turns: turns)
    }
  }

  /// Whether the example with this id is in the held-out split of `fraction`: FNV-1a 64 of the
  /// id's UTF-8, mixed once through SplitMix64, as a unit number below `fraction`. It depends on
  /// the id only, so the split is the same for every seed and every worker.
  public static func isHeldOut(id: String, fraction: Double) -> Bool {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in id.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    var mix = SplitMix64(seed: hash)
    return mix.nextUnit() < fraction
  }

  /// Training samples for `path` under `model` (the vision tower runs once per example), of the
  /// examples `include` keeps.
  public static func samples(
    path: String, builder: SampleBuilder, featureWidth: Int, turns: TrainingTurns = .first,
    include: (Example) -> Bool = { _ in true }
  ) throws -> [TrainingSample] {
    try samples(
      of: try examples(path: path).filter(include), path: path, builder: builder,
      featureWidth: featureWidth, turns: turns)
  }

  /// Training samples of `examples` (read from `path`, named in errors): one per example, of
  /// its first question or (`.each`) of all of them packed.
  public static func samples(
    of examples: [Example], path: String, builder: SampleBuilder, featureWidth: Int,
    turns: TrainingTurns = .first
  ) throws -> [TrainingSample] {
    guard !examples.isEmpty else { throw TrainingError("\(path) holds no examples") }
    return try examples.map { example in
      do {
        return try builder.packedSample(
          imagePath: example.image,
          turns: example.turns(turns).map { ($0.question, $0.answer) }, featureWidth: featureWidth)
      } catch {
        throw TrainingError(
          "\(path): entry \(example.id) (\(example.image ?? "no image")): \(error)")
      }
    }
  }
}

/// Which questions of a multi-turn LLaVA entry a run trains on (`train start --turns`).
public enum TrainingTurns: String, Sendable, CaseIterable {
  /// The first human/gpt pair only.
  case first
  /// Every pair, each as its own question on the entry's image: the pairs do not see each other
  /// (a visual question set's questions are independent, unlike a dialogue's), packed into one
  /// sample that shares the image, exactly as if each were its own example in the batch.
  case each
}
