import Foundation
public import Training

/// Reads a LLaVA JSON export (`[{"id", "image", "conversations": [{"from": "human", "value":
/// "<image>\n…"}, {"from": "gpt", "value": "…"}]}]`) into training samples: the first human turn
/// is the question (the `<image>` marker removed), the next gpt turn the answer; images are
/// relative to the JSON's folder or absolute.
public enum LLaVAData {
  struct Turn: Decodable {
    var from: String
    var value: String
  }
  struct Entry: Decodable {
    var image: String?
    var conversations: [Turn]
  }

  public struct Example: Sendable, Equatable {
    public var image: String?
    public var question: String
    public var answer: String
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
      guard let human = entry.conversations.firstIndex(where: { $0.from == "human" }),
        human + 1 < entry.conversations.count, entry.conversations[human + 1].from == "gpt"
      else {
        throw TrainingError(
          "\(path): entry \(index) has no human turn followed by a gpt turn")
      }
      var question = entry.conversations[human].value
      for marker in ["<image>\n", "\n<image>", "<image>"] {
        question = question.replacingOccurrences(of: marker, with: "")
      }
      let image = entry.image.map { $0.hasPrefix("/") ? $0 : folder + "/" + $0 }
      return Example(
        image: image, question: question, answer: entry.conversations[human + 1].value)
    }
  }

  /// Training samples for `path` under `model` (the vision tower runs once per example).
  public static func samples(path: String, builder: SampleBuilder, featureWidth: Int) throws
    -> [TrainingSample]
  {
    let examples = try examples(path: path)
    guard !examples.isEmpty else { throw TrainingError("\(path) holds no examples") }
    return try examples.enumerated().map { index, example in
      do {
        return try builder.sample(
          imagePath: example.image, question: example.question, answer: example.answer,
          featureWidth: featureWidth)
      } catch {
        throw TrainingError("\(path): entry \(index) (\(example.image ?? "no image")): \(error)")
      }
    }
  }
}
