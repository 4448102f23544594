import TrolleyBasics

/// TroL's prompt format for one model family (docs/model.md, "Prompt format") and the answer
/// extraction of the official `output_filtering` (docs/model.md, "Generation").
///
/// `prompt(question:imageTokens:)` returns the text the reference `eval_process(data="demo")`
/// feeds to the tokenizer, with the image placeholder already expanded to one token per image
/// feature row.
public struct ChatTemplate: Sendable, Hashable {
  /// The system prompt shared by every TroL variant (two sentences, no final period).
  public static let systemPrompt =
    "You are AI model created by Byung-Kwan Lee, Ph.D. candidate, KAIST EE, of which AI model name is TroL (Traversal of Layers). You must give helpful, detailed, and polite answers to the user's questions"

  /// How one `<image>` placeholder becomes image tokens.
  public enum ImageExpansion: Sendable, Hashable {
    /// InternLM2: `<image>` repeated once per feature row.
    case repeatPlaceholder
    /// Phi-3: `start` + `context` per feature row + `end` (`<img>`, `<IMG_CONTEXT>`, `</img>`).
    case wrapped(start: String, context: String, end: String)
  }

  public var systemStart: String
  public var systemEnd: String
  public var userStart: String
  public var userEnd: String
  public var assistantStart: String
  /// What the model was trained to emit after an answer (`turn end + "\n" + </s>`).
  public var assistantEnd: String
  public var split: String
  /// Answer extraction: the text after the last `testStart` and before the next `testEnd`.
  public var testStart: String
  public var testEnd: String
  /// The placeholder users write in questions.
  public var imagePlaceholder: String
  public var imageExpansion: ImageExpansion

  /// TroL-1.8B / TroL-7B (InternLM2).
  public static let internLM2 = ChatTemplate(
    systemStart: "<s>[UNUSED_TOKEN_146]system\n", systemEnd: "[UNUSED_TOKEN_145]",
    userStart: "[UNUSED_TOKEN_146]user\n", userEnd: "[UNUSED_TOKEN_145]",
    assistantStart: "[UNUSED_TOKEN_146]assistant\n", assistantEnd: "[UNUSED_TOKEN_145]\n</s>",
    split: "\n", testStart: "assistant\n", testEnd: "[UNUSED_TOKEN_145]",
    imagePlaceholder: "<image>", imageExpansion: .repeatPlaceholder)

  /// TroL-3.8B (Phi-3).
  public static let phi3 = ChatTemplate(
    systemStart: "<s><|system|>\n", systemEnd: "<|end|>",
    userStart: "<|user|>\n", userEnd: "<|end|>",
    assistantStart: "<|assistant|>\n", assistantEnd: "<|end|>\n</s>",
    split: "\n", testStart: "<|assistant|>\n", testEnd: "<|end|>",
    imagePlaceholder: "<image>",
    imageExpansion: .wrapped(start: "<img>", context: "<IMG_CONTEXT>", end: "</img>"))

  /// The token whose embedding slots receive image features (`config.image_token_index`).
  public var imageToken: String {
    switch imageExpansion {
    case .repeatPlaceholder: return imagePlaceholder
    case .wrapped(_, let context, _): return context
    }
  }

  /// The token that ends an assistant turn; greedy decoding may stop on it (same answer text).
  public var turnEndToken: String { userEnd }

  /// The full prompt for one question.
  ///
  /// - Parameters:
  ///   - question: the user's question; `<image>` marks where the image goes. With an image and
  ///     no placeholder, `"<image>\n"` is put in front, as the reference does.
  ///   - imageTokens: image feature rows for the image (InternLM2: tokens per image, 1225 for
  ///     the released models; Phi-3: 256 × tiles including the thumbnail), or nil without image.
  /// - Throws: `invalidRequest` when the question asks for an image that was not given (the
  ///   reference crashes there), or `imageTokens` is not positive.
  public func prompt(question: String, imageTokens: Int?) throws -> String {
    var question = question
    if let imageTokens {
      guard imageTokens > 0 else {
        throw TroLError(
          .invalidRequest, "an image needs at least one image token, got \(imageTokens)")
      }
      if !question.contains(imagePlaceholder) { question = imagePlaceholder + "\n" + question }
    }
    var text =
      systemStart + Self.systemPrompt + systemEnd + split + userStart + question + userEnd + split
      + assistantStart
    switch imageExpansion {
    case .repeatPlaceholder:
      guard text.contains(imagePlaceholder) else { return text }
      guard let imageTokens else {
        throw TroLError(
          .invalidRequest,
          "the question contains \(imagePlaceholder) but no image was given; remove the placeholder or attach an image"
        )
      }
      text = Self.replacingAll(
        imagePlaceholder, with: String(repeating: imagePlaceholder, count: imageTokens), in: text)
    case .wrapped(let start, let context, let end):
      if imageTokens != nil {
        text = Self.replacingAll(imagePlaceholder, with: start + context + end, in: text)
      }
      guard text.contains(context) else { return text }
      guard let imageTokens else {
        throw TroLError(
          .invalidRequest,
          "the question contains \(context) but no image was given; remove it or attach an image")
      }
      text = Self.replacingAll(
        context, with: String(repeating: context, count: imageTokens), in: text)
    }
    return text
  }

  /// The answer inside a decoded generation (`output_filtering`): the text after the last
  /// `testStart`, cut at the first `testEnd`, with Python `str.strip()` whitespace removed.
  public func extractAnswer(from decoded: String) -> String {
    let bytes = Array(decoded.utf8)
    let start = Array(testStart.utf8)
    let end = Array(testEnd.utf8)
    var from = 0
    if let last = Self.lastRange(of: start, in: bytes) { from = last.upperBound }
    var to = bytes.count
    if let first = Self.firstRange(of: end, in: bytes, from: from) { to = first.lowerBound }
    let lead = Whitespace.leadingCount(bytes, from..<to, Whitespace.isPythonSpace)
    let trail =
      lead == to - from ? 0 : Whitespace.trailingCount(bytes, from..<to, Whitespace.isPythonSpace)
    return String(decoding: bytes[(from + lead)..<(to - trail)], as: UTF8.self)
  }

  // Byte-wise search: Swift's String search is by Character (canonical equivalence), Python's
  // `str.split` is by code point.
  static func replacingAll(_ target: String, with replacement: String, in text: String) -> String {
    let out = SentencePieceTokenizer.replaceAll(
      Array(text.utf8), Array(target.utf8), Array(replacement.utf8))
    return String(decoding: out, as: UTF8.self)
  }

  static func firstRange(of needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Range<Int>? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var i = from
    while i + needle.count <= haystack.count {
      if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) {
        return i..<i + needle.count
      }
      i += 1
    }
    return nil
  }

  static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    // Python's split keeps non-overlapping matches from the left; the last piece starts after
    // the last of those.
    var last: Range<Int>?
    var i = 0
    while let r = firstRange(of: needle, in: haystack, from: i) {
      last = r
      i = r.upperBound
    }
    return last
  }
}
