internal import Foundation
public import TroL

/// Writes a trained model as a folder in the official TroL layout (training.md, "Export"):
/// config.json and the tokenizer files copied, model.safetensors with the trained projector (and
/// the LoRA merged in f32 into the original 16-bit base, then narrowed back to its dtype), and
/// trol_gating.pt written as the official file is (N key pairs on one bf16 storage). With
/// `adapter`, the base stays as it was and the LoRA goes to PEFT's adapter_config.json and
/// adapter_model.safetensors beside it (TroLEngine merges it at load, with the same function).
public enum ModelExport {
  public static func write<T: Real>(_ model: TrainingModel<T>, to out: String, adapter: Bool) throws
  {
    let fm = FileManager.default
    let source = model.directory.path
    if fm.fileExists(atPath: out) {
      let contents = (try? fm.contentsOfDirectory(atPath: out)) ?? []
      guard contents.isEmpty else {
        throw TrainingError("\(out) exists and is not empty; export into a new folder")
      }
    }
    try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
    let skipped: Set<String> = [
      "model.safetensors", "trol_gating.pt", PEFTAdapter.configFile, PEFTAdapter.weightsFile,
    ]
    for name in try fm.contentsOfDirectory(atPath: source).sorted() where !skipped.contains(name) {
      var isDirectory: ObjCBool = false
      let path = source + "/" + name
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
        continue
      }
      try fm.copyItem(atPath: path, toPath: out + "/" + name)
    }
    if !model.traversal { try recordNoTraversal(config: out + "/config.json") }
    // Trained tensors by checkpoint key.
    var trained: [String: [Float]] = [:]
    for p in model.projector.parameters + model.unfrozenParameters {
      trained[p.name] = p.value.floats
    }
    let adapters = model.adapters
    var merged: [String: LoRAAdapter<T>] = [:]
    if !adapter { for a in adapters { merged[baseKey(model, a.module)] = a } }
    let file = model.directory.weights
    let names = file.names
    let specs = try names.map { name -> SafeTensorsWriter.TensorSpec in
      let info = try file.info(name)
      return .init(name: name, dtype: info.dtype, shape: info.shape)
    }
    let writer = try SafeTensorsWriter(path: out + "/model.safetensors", tensors: specs)
    for name in names {
      if let values = trained[name] {
        try writer.append(floats: values)
      } else if let lora = merged[name] {
        let base = try file.floats(name)
        try writer.append(
          floats: PEFTAdapter.merge(
            base: base, a: lora.a.value.floats, b: lora.b.value.floats, rank: lora.rank,
            scale: Float(lora.alpha / Double(lora.rank))))
      } else {
        try writer.append(try file.bytes(name))
      }
    }
    try writer.finish()
    let gate = try model.directory.gate()
    try TroLGate(
      weight: model.gateWeight.value.floats, bias: Float(model.gateBias.value.p[0]),
      layerEntries: model.layerCount, storageType: gate.storageType
    ).write(to: out + "/trol_gating.pt")
    if adapter && !adapters.isEmpty {
      try writeAdapter(model, adapters, to: out)
    }
  }

  /// A model trained without traversal says so in its config.json (`"trol_traversal": false`,
  /// training.md's ablation): the official loader keeps unknown config keys as attributes and
  /// never reads this one; only Trolley does.
  static func recordNoTraversal(config path: String) throws {
    let url = URL(fileURLWithPath: path)
    guard
      var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    else { throw TrainingError("\(path) is not a JSON object") }
    object["trol_traversal"] = false
    try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
      .write(to: url)
  }

  /// The checkpoint key of the base matrix a LoRA module wraps (InternLM2: inside PLoRA).
  static func baseKey<T: Real>(_ model: TrainingModel<T>, _ module: String) -> String {
    model.family == Family.internLM2 ? module + ".ffn.weight" : module + ".weight"
  }

  private static func writeAdapter<T: Real>(
    _ model: TrainingModel<T>, _ adapters: [LoRAAdapter<T>], to out: String
  ) throws {
    var specs: [SafeTensorsWriter.TensorSpec] = []
    var values: [[Float]] = []
    for a in adapters {
      let module = "base_model.model." + baseKey(model, a.module).dropLast(".weight".count)
      specs.append(.init(name: module + ".lora_A.weight", dtype: .f32, shape: a.a.shape))
      values.append(a.a.value.floats)
      specs.append(.init(name: module + ".lora_B.weight", dtype: .f32, shape: a.b.shape))
      values.append(a.b.value.floats)
    }
    let writer = try SafeTensorsWriter(path: out + "/" + PEFTAdapter.weightsFile, tensors: specs)
    for v in values { try writer.append(floats: v) }
    try writer.finish()
    let targets = Array(
      Set(
        adapters.map {
          baseKey(model, $0.module).dropLast(".weight".count).split(separator: ".").last.map(
            String.init) ?? ""
        })
    ).sorted()
    let first = adapters[0]
    let config: [String: Any] = [
      "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": first.rank, "lora_alpha": first.alpha,
      "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": false, "inference_mode": true,
      "target_modules": targets, "base_model_name_or_path": NSNull(),
    ]
    let data = try JSONSerialization.data(
      withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: out + "/" + PEFTAdapter.configFile))
  }
}
