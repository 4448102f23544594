internal import Foundation

/// What `trolley model inspect` reports: the family and dimensions from config.json, parameter
/// counts by part from the safetensors header, the gate, and the memory needed per format.
public struct ModelInspection: Sendable, Hashable, Encodable {
  /// The parts parameters are counted in, in report order.
  public enum PartKind: String, Sendable, Hashable, Codable, CaseIterable {
    case visionTower = "vision_tower"
    case projector
    case decoder
    case embeddingsAndHead = "embeddings_and_head"
    case ploraAdapters = "plora_adapters"
    case gate
    case other

    /// Label for the text report.
    public var label: String {
      switch self {
      case .visionTower: "vision tower"
      case .projector: "projector"
      case .decoder: "decoder layers"
      case .embeddingsAndHead: "embeddings + head"
      case .ploraAdapters: "PLoRA adapters"
      case .gate: "TroL gate"
      case .other: "other"
      }
    }
  }

  /// Parameters of one part.
  public struct Part: Sendable, Hashable, Codable {
    public var kind: PartKind
    public var parameters: Int
    public var tensors: Int
    /// Bytes as stored in the checkpoint.
    public var storedBytes: Int
    /// Tensor count per stored dtype (`F16`: 96...).
    public var dtypes: [String: Int]
  }

  /// The gate as read from trol_gating.pt.
  public struct Gate: Sendable, Hashable, Codable {
    public var hiddenSize: Int
    public var layerEntries: Int
    public var entriesIdentical: Bool
    public var storage: String
    public var bias: Float
  }

  /// Bytes needed to hold every parameter in each weight format.
  public struct Memory: Sendable, Hashable, Codable {
    public var f32: Int
    public var bits16: Int
    /// ≈ 1.06 bytes per parameter (8-bit blocks with one f16 scale per 32 values).
    public var q8: Int
    /// ≈ 0.56 bytes per parameter (4-bit blocks with one f16 scale per 32 values).
    public var q4: Int

    public init(parameters: Int) {
      f32 = parameters * 4
      bits16 = parameters * 2
      q8 = Int((Double(parameters) * 1.0625).rounded(.up))
      q4 = Int((Double(parameters) * 0.5625).rounded(.up))
    }

    enum CodingKeys: String, CodingKey {
      case f32
      case bits16 = "16bit"
      case q8, q4
    }
  }

  public var path: String
  public var family: Family
  /// The validated config.json, every field (defaults filled in): the value the engine runs.
  public var config: ModelConfig
  public var decoder: ModelConfig.Decoder
  public var vision: ModelConfig.Vision
  public var imageSize: Int
  public var imageTokensPerTile: Int
  public var maxTilesPerImage: Int
  public var parts: [Part]
  public var gate: Gate
  public var totalParameters: Int
  public var storedBytes: Int
  public var memory: Memory
  /// Disagreements between config.json and the weights (empty when consistent).
  public var findings: [String]

  /// Inspects an opened model folder (reads the header and the gate, not the weights).
  ///
  /// - Throws: the gate's errors (`TroLGate.load`).
  public init(_ model: ModelDirectory) throws {
    let gate = try model.gate()
    var parts = Dictionary(
      uniqueKeysWithValues: PartKind.allCases.map {
        ($0, Part(kind: $0, parameters: 0, tensors: 0, storedBytes: 0, dtypes: [:]))
      })
    // Each tensor counts in the part its family's tensor list gives it; keys the list does not
    // know (a gate copy inside model.safetensors, which the loader ignores) are "other".
    let listed = Dictionary(
      model.config.tensors.map { ($0.name, $0.part) }, uniquingKeysWith: { first, _ in first })
    for name in model.weights.names {
      let info = try model.weights.info(name)
      let kind = listed[name] ?? .other
      parts[kind]!.parameters += info.count
      parts[kind]!.tensors += 1
      parts[kind]!.storedBytes += info.byteCount
      parts[kind]!.dtypes[info.dtype.rawValue, default: 0] += 1
    }
    // The gate is one shared Linear(D, 1): counted once, stored once per storage.
    let gateParameters = gate.hiddenSize + 1
    parts[.gate] = Part(
      kind: .gate, parameters: gateParameters, tensors: 2, storedBytes: gateParameters * 2,
      dtypes: [gate.storageType.dtypeName: 2])
    self.parts = PartKind.allCases.compactMap { parts[$0] }.filter { $0.tensors > 0 }
    self.gate = Gate(
      hiddenSize: gate.hiddenSize, layerEntries: gate.layerEntries,
      entriesIdentical: gate.entriesIdentical,
      storage: gate.storageType.dtypeName, bias: gate.bias)
    path = model.path
    family = model.config.family
    config = model.config
    decoder = model.config.decoder
    vision = model.config.vision
    imageSize = model.config.imageSize
    imageTokensPerTile = model.config.imageTokensPerTile
    maxTilesPerImage = model.config.maxTilesPerImage
    totalParameters = self.parts.reduce(0) { $0 + $1.parameters }
    storedBytes = self.parts.reduce(0) { $0 + $1.storedBytes }
    memory = Memory(parameters: totalParameters)
    findings = Self.findings(model)
  }

  /// The human-readable report.
  public var text: String {
    var lines: [String] = []
    let familyName = config.title
    lines.append("model    \(path)")
    lines.append("family   \(family.rawValue): \(familyName)")
    let d = decoder
    lines.append(
      "decoder  hidden \(d.hiddenSize), layers \(d.layers), heads \(d.heads) (kv \(d.kvHeads), head dim \(d.headDim)), ffn \(d.intermediateSize), vocab \(d.vocabSize), rope θ \(Self.number(d.ropeTheta))"
    )
    let v = vision
    let images =
      maxTilesPerImage == 1
      ? "\(imageSize)×\(imageSize) image → \(imageTokensPerTile) tokens"
      : "\(imageSize)×\(imageSize) tiles → \(imageTokensPerTile) tokens each, up to \(maxTilesPerImage) tiles"
    lines.append(
      "vision   hidden \(v.hiddenSize), layers \(v.layers), heads \(v.heads), ffn \(v.intermediateSize), patch \(v.patchSize); \(images)"
    )
    lines.append(
      "gate     shared Linear(\(gate.hiddenSize) → 1), \(gate.layerEntries) layer entries\(gate.entriesIdentical ? " (identical)" : " (DIFFERENT: the last one is used)"), \(gate.storage), bias \(gate.bias)"
    )
    lines.append("")
    let rows = parts.map { part in
      [
        part.kind.label, Self.grouped(part.parameters), String(part.tensors),
        part.dtypes.sorted { $0.key < $1.key }.map { "\($0.key)" }.joined(separator: "+"),
        Self.bytes(part.storedBytes),
      ]
    }
    let header = ["part", "parameters", "tensors", "dtype", "stored"]
    let total = [
      "total", Self.grouped(totalParameters), String(parts.reduce(0) { $0 + $1.tensors }), "",
      Self.bytes(storedBytes),
    ]
    let table = [header] + rows + [total]
    let widths = (0..<header.count).map { column in table.map { $0[column].count }.max() ?? 0 }
    for (index, row) in table.enumerated() {
      let cells = row.enumerated().map { column, cell in
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 || column == 3 ? cell + padding : padding + cell
      }
      lines.append(cells.joined(separator: "  "))
      if index == 0 || index == table.count - 2 {
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
      }
    }
    lines.append("")
    lines.append(
      "memory   f32 \(Self.bytes(memory.f32)) · 16-bit \(Self.bytes(memory.bits16)) · q8 \(Self.bytes(memory.q8)) · q4 \(Self.bytes(memory.q4)) (weights only; add activations and KV cache)"
    )
    if findings.isEmpty {
      lines.append("checks   config.json and model.safetensors agree (layer counts and key shapes)")
    } else {
      lines.append("checks   \(findings.count) problem(s): the engine will refuse this checkpoint")
      lines += findings.map { "  - \($0)" }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func grouped(_ value: Int) -> String {
    let digits = Array(String(value))
    var out = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
      out.append(digit)
    }
    return out
  }

  static func bytes(_ count: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0
      ? "\(count) B" : "\(Self.number(value, digits: value < 10 ? 2 : 1)) \(units[unit])"
  }

  static func number(_ value: Double, digits: Int = 0) -> String {
    if digits == 0, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
      let decimals = text.distance(from: dot, to: text.endIndex) - 1
      if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
  }
}

extension ModelInspection {
  /// The report as pretty-printed JSON with sorted keys (stable for scripts and tests).
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs of numbers and strings cannot fail.
    guard let data = try? encoder.encode(self) else { return "{}" }
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
