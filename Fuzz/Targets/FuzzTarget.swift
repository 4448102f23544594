/// The parsers `Ops/fuzz` runs, by the name its corpus directory (`Fuzz/Corpus/<name>`) has.
enum FuzzTarget: String, CaseIterable {
  /// `SafeTensorsFile`: the 8-byte length, the JSON header and every tensor's bytes.
  case safetensors
  /// `TorchStateDictFile` and `TroLGate`: the zip archive and the pickle inside (trol_gating.pt).
  case pickle
  /// `SentencePieceTokenizer`: the tokenizer.model protobuf, then encode and decode.
  case sentencepiece
  /// `HFTokenizer`: tokenizer.json, then encode and decode.
  case tokenizerJSON = "tokenizer-json"
  /// `ImageDecoder`: PNG, JPEG, WebP, GIF and BMP through the worker's decode path.
  case image
  /// The manifest readers: the first byte picks JSONL, CSV, TSV or a path list.
  case manifest
  /// Job payloads: the first byte picks the kind whose payload the rest is decoded as.
  case payload
  /// Model `config.json`, the TOML configuration file and the CLI's JSON parser.
  case config

  func run(_ bytes: [UInt8]) {
    switch self {
    case .safetensors: fuzzSafeTensors(bytes)
    case .pickle: fuzzPickle(bytes)
    case .sentencepiece: fuzzSentencePiece(bytes)
    case .tokenizerJSON: fuzzTokenizerJSON(bytes)
    case .image: fuzzImage(bytes)
    case .manifest: fuzzManifest(bytes)
    case .payload: fuzzPayload(bytes)
    case .config: fuzzConfig(bytes)
    }
  }
}
