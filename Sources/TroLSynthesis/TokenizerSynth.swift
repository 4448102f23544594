internal import Foundation
import TrolleyBasics

/// Generated tokenizer files for synthesized checkpoints. The vocabularies have the real sizes and
/// the real special-token ids; ordinary text encodes to single characters or bytes (there are no
/// merges), and the filler pieces that pad the vocabulary never match text (they start with a
/// private-use character), but random weights can generate them, which decodes to odd text.
enum SentencePieceSynth {
  /// The pieces: `<unk>`, `<s>`, `</s>`, 256 byte pieces, `▁` and printable ASCII, fillers, then
  /// `[UNUSED_TOKEN_145]` / `[UNUSED_TOKEN_146]` as the last two ids (InternLM2's turn markers).
  static func pieces(vocabulary V: Int) -> [(piece: String, score: Float, type: Int)] {
    var pieces: [(String, Float, Int)] = [("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3)]
    for b in 0..<256 { pieces.append((String(format: "<0x%02X>", b), 0, 6)) }
    pieces.append(("\u{2581}", -1, 1))
    for c in 33...126 { pieces.append((String(UnicodeScalar(UInt8(c))), -2, 1)) }
    var filler = 0
    while pieces.count < V - 2 {
      pieces.append(("\u{E000}\(filler)", -1_000_000, 1))
      filler += 1
    }
    pieces.append(("[UNUSED_TOKEN_145]", 0, 4))
    pieces.append(("[UNUSED_TOKEN_146]", 0, 4))
    return pieces
  }

  /// tokenizer.model: a SentencePiece ModelProto (BPE, byte fallback, identity normalizer, no
  /// dummy prefix, as the fixtures assume for InternLM2).
  static func model(vocabulary V: Int) -> Data {
    var out = ProtobufWriter()
    for (piece, score, type) in pieces(vocabulary: V) {
      var message = ProtobufWriter()
      message.string(1, piece)
      message.float(2, score)
      message.varint(3, UInt64(type))
      out.message(1, message)
    }
    var trainer = ProtobufWriter()
    trainer.varint(3, 2)  // model_type BPE
    trainer.varint(4, UInt64(V))  // vocab_size
    trainer.varint(35, 1)  // byte_fallback
    trainer.varint(40, 0)  // unk_id
    trainer.varint(41, 1)  // bos_id
    trainer.varint(42, 2)  // eos_id
    out.message(2, trainer)
    var normalizer = ProtobufWriter()
    normalizer.string(1, "identity")
    normalizer.varint(3, 0)  // add_dummy_prefix
    normalizer.varint(4, 0)  // remove_extra_whitespaces
    normalizer.varint(5, 1)  // escape_whitespaces
    out.message(3, normalizer)
    return Data(out.bytes)
  }

  static func tokenizerConfig(imageID: Int) -> Data {
    func token(_ content: String) -> String {
      "{\"content\": \"\(content)\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": true}"
    }
    return Data(
      """
      {
        "added_tokens_decoder": {
          "0": \(token("<unk>")),
          "1": \(token("<s>")),
          "2": \(token("</s>")),
          "\(imageID)": \(token("<image>"))
        },
        "additional_special_tokens": ["<image>"],
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": false,
        "eos_token": "</s>",
        "pad_token": "</s>",
        "padding_side": "left",
        "tokenizer_class": "InternLM2Tokenizer",
        "unk_token": "<unk>"
      }

      """.utf8)
  }

  static let specialTokensMap = Data(
    """
    {
      "additional_special_tokens": [{"content": "<image>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false}],
      "bos_token": {"content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
      "eos_token": {"content": "</s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
      "pad_token": {"content": "</s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
      "unk_token": {"content": "<unk>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false}
    }

    """.utf8)
}

/// Phi-3 (TroL-3.8B) tokenizer files: a byte-fallback BPE tokenizer.json with Phi-3's 32000 base
/// ids, its chat tokens at 32000–32010 and InternVL's image tokens at 32011–32019.
enum Phi3TokenizerSynth {
  /// (content, rstrip, special) in id order from the base vocabulary size.
  static let added: [(String, Bool)] = [
    ("<|endoftext|>", false), ("<|assistant|>", true), ("<|placeholder1|>", true),
    ("<|placeholder2|>", true),
    ("<|placeholder3|>", true), ("<|placeholder4|>", true), ("<|system|>", true), ("<|end|>", true),
    ("<|placeholder5|>", true), ("<|placeholder6|>", true), ("<|user|>", true),
    ("<img>", false), ("</img>", false), ("<IMG_CONTEXT>", false), ("<quad>", false),
    ("</quad>", false),
    ("<ref>", false), ("</ref>", false), ("<box>", false), ("</box>", false),
  ]

  static func quoted(_ s: String) -> String { JSONString.quoted(s) }

  typealias AddedToken = (id: Int, content: String, rstrip: Bool, special: Bool)

  /// Every token the two files list as added, in id order: `<unk>`, `<s>` and `</s>` (ids 0-2),
  /// then `added` from id V.
  static func specialTokens(baseVocabulary V: Int) -> [AddedToken] {
    [(0, "<unk>", false, true), (1, "<s>", false, true), (2, "</s>", true, false)]
      + added.enumerated().map { (V + $0.offset, $0.element.0, $0.element.1, true) }
  }

  static func tokenizerJSON(baseVocabulary V: Int) -> Data {
    let pieces = SentencePieceSynth.pieces(vocabulary: V + 2).prefix(V)
    let vocab = pieces.enumerated().map { "\(quoted($0.element.piece)): \($0.offset)" }.joined(
      separator: ", ")
    func addedToken(_ t: AddedToken) -> String {
      "{\"id\": \(t.id), \"content\": \(quoted(t.content)), \"single_word\": false, \"lstrip\": false, \"rstrip\": \(t.rstrip), \"normalized\": false, \"special\": \(t.special)}"
    }
    let addedTokens = specialTokens(baseVocabulary: V).map(addedToken)
    let text = """
      {"version": "1.0", "truncation": null, "padding": null,
       "added_tokens": [\(addedTokens.joined(separator: ", "))],
       "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u{2581}"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"}]},
       "pre_tokenizer": null,
       "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
       "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
       "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false, "vocab": {\(vocab)}, "merges": []}}

      """
    return Data(text.utf8)
  }

  static func tokenizerConfig(baseVocabulary V: Int) -> Data {
    func entry(_ t: AddedToken) -> String {
      "\"\(t.id)\": {\"content\": \(quoted(t.content)), \"lstrip\": false, \"normalized\": false, \"rstrip\": \(t.rstrip), \"single_word\": false, \"special\": \(t.special)}"
    }
    let entries = specialTokens(baseVocabulary: V).map(entry)
    let additional = added.suffix(9).map { quoted($0.0) }.joined(separator: ", ")
    return Data(
      """
      {"add_bos_token": true, "add_eos_token": false, "added_tokens_decoder": {\(entries.joined(separator: ", "))},
       "additional_special_tokens": [\(additional)], "bos_token": "<s>", "clean_up_tokenization_spaces": false,
       "eos_token": "</s>", "legacy": true, "pad_token": "</s>", "padding_side": "left",
       "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>", "use_default_system_prompt": false}

      """.utf8)
  }

  static func addedTokens(baseVocabulary V: Int) -> Data {
    let entries = added.enumerated().map { "\(quoted($0.element.0)): \(V + $0.offset)" }
    return Data(("{" + entries.joined(separator: ", ") + "}\n").utf8)
  }

  static let specialTokensMap = Data(
    """
    {"additional_special_tokens": ["<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>"],
     "bos_token": {"content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
     "eos_token": {"content": "</s>", "lstrip": false, "normalized": false, "rstrip": true, "single_word": false},
     "pad_token": {"content": "</s>", "lstrip": false, "normalized": false, "rstrip": true, "single_word": false},
     "unk_token": {"content": "<unk>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false}}

    """.utf8)
}

/// Just enough protobuf encoding for a SentencePiece ModelProto.
struct ProtobufWriter {
  var bytes: [UInt8] = []

  mutating func rawVarint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func varint(_ field: Int, _ value: UInt64) {
    rawVarint(UInt64(field << 3))
    rawVarint(value)
  }

  mutating func float(_ field: Int, _ value: Float) {
    rawVarint(UInt64(field << 3 | 5))
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func string(_ field: Int, _ value: String) {
    rawVarint(UInt64(field << 3 | 2))
    let utf8 = Array(value.utf8)
    rawVarint(UInt64(utf8.count))
    bytes.append(contentsOf: utf8)
  }

  mutating func message(_ field: Int, _ value: ProtobufWriter) {
    rawVarint(UInt64(field << 3 | 2))
    rawVarint(UInt64(value.bytes.count))
    bytes.append(contentsOf: value.bytes)
  }
}
