/// The contents of a SentencePiece `tokenizer.model` (a serialized `ModelProto`), decoded without
/// the sentencepiece library. Only the fields that change encoding or decoding are kept.
public struct SentencePieceModel: Sendable {
  public enum PieceType: Int32, Sendable {
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
  }

  public enum ModelType: Int32, Sendable {
    case unigram = 1
    case bpe = 2
    case word = 3
    case char = 4
  }

  public struct Piece: Sendable {
    public var piece: [UInt8]
    public var score: Float
    public var type: PieceType
  }

  public struct TrainerSpec: Sendable {
    public var modelType: ModelType = .unigram
    public var byteFallback = false
    public var treatWhitespaceAsSuffix = false
    public var unkID: Int32 = 0
    public var bosID: Int32 = 1
    public var eosID: Int32 = 2
    public var padID: Int32 = -1
    /// What decoding prints for `<unk>`; sentencepiece's default is " ⁇ ".
    public var unkSurface: [UInt8] = Array(" \u{2047} ".utf8)
  }

  public struct NormalizerSpec: Sendable {
    public var name = ""
    public var precompiledCharsmap: [UInt8] = []
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = true
    public var escapeWhitespaces = true
  }

  public var pieces: [Piece]
  public var trainerSpec: TrainerSpec
  public var normalizerSpec: NormalizerSpec

  /// Decodes a serialized `ModelProto`; `context` names the file in error messages.
  public init(serialized bytes: [UInt8], context: String = "tokenizer.model") throws {
    var reader = ProtobufReader(bytes, context: context)
    var pieces: [Piece] = []
    var trainer = TrainerSpec()
    var normalizer = NormalizerSpec()
    var sawNormalizer = false
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(.lengthDelimited, got: wire, field: "ModelProto.pieces")
        var sub = try reader.readMessage()
        pieces.append(try Self.readPiece(&sub))
      case 2:
        try reader.expect(.lengthDelimited, got: wire, field: "ModelProto.trainer_spec")
        var sub = try reader.readMessage()
        trainer = try Self.readTrainerSpec(&sub)
      case 3:
        try reader.expect(.lengthDelimited, got: wire, field: "ModelProto.normalizer_spec")
        var sub = try reader.readMessage()
        normalizer = try Self.readNormalizerSpec(&sub)
        sawNormalizer = true
      default:
        try reader.skip(wire)
      }
    }
    guard !pieces.isEmpty else { throw reader.malformed("it holds no pieces") }
    if !sawNormalizer { normalizer = NormalizerSpec() }
    self.pieces = pieces
    self.trainerSpec = trainer
    self.normalizerSpec = normalizer
  }

  private static func readPiece(_ r: inout ProtobufReader) throws -> Piece {
    var piece = Piece(piece: [], score: 0, type: .normal)
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1:
        try r.expect(.lengthDelimited, got: wire, field: "SentencePiece.piece")
        piece.piece = Array(try r.readBytes())
      case 2:
        try r.expect(.fixed32, got: wire, field: "SentencePiece.score")
        piece.score = try r.readFloat()
      case 3:
        try r.expect(.varint, got: wire, field: "SentencePiece.type")
        let raw = try r.readInt32()
        guard let type = PieceType(rawValue: raw) else {
          throw r.malformed("unknown piece type \(raw)")
        }
        piece.type = type
      default:
        try r.skip(wire)
      }
    }
    return piece
  }

  private static func readTrainerSpec(_ r: inout ProtobufReader) throws -> TrainerSpec {
    var spec = TrainerSpec()
    while let (number, wire) = try r.nextField() {
      switch (number, wire) {
      case (3, .varint):
        let raw = try r.readInt32()
        guard let type = ModelType(rawValue: raw) else {
          throw r.malformed("unknown model type \(raw)")
        }
        spec.modelType = type
      case (24, .varint): spec.treatWhitespaceAsSuffix = try r.readBool()
      case (35, .varint): spec.byteFallback = try r.readBool()
      case (40, .varint): spec.unkID = try r.readInt32()
      case (41, .varint): spec.bosID = try r.readInt32()
      case (42, .varint): spec.eosID = try r.readInt32()
      case (43, .varint): spec.padID = try r.readInt32()
      case (44, .lengthDelimited): spec.unkSurface = Array(try r.readBytes())
      default: try r.skip(wire)
      }
    }
    return spec
  }

  private static func readNormalizerSpec(_ r: inout ProtobufReader) throws -> NormalizerSpec {
    var spec = NormalizerSpec()
    while let (number, wire) = try r.nextField() {
      switch (number, wire) {
      case (1, .lengthDelimited): spec.name = String(decoding: try r.readBytes(), as: UTF8.self)
      case (2, .lengthDelimited): spec.precompiledCharsmap = Array(try r.readBytes())
      case (3, .varint): spec.addDummyPrefix = try r.readBool()
      case (4, .varint): spec.removeExtraWhitespaces = try r.readBool()
      case (5, .varint): spec.escapeWhitespaces = try r.readBool()
      default: try r.skip(wire)
      }
    }
    return spec
  }
}
