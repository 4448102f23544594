import Foundation
import Tensor
import TestFixtures
import TroL

@testable import Training

/// The official training goldens of one fixture family (`expected/train.{json,safetensors}`),
/// made with the official forward and torch autograd (see the fixture README).
struct TrainingGoldens {
  let family: String
  let directory: String
  let file: SafeTensorsFile
  let json: [String: Any]
  let sample: TrainingSample

  init(_ family: String) throws {
    self.family = family
    directory = TestFixtures.trolTiny + "/" + family
    file = try SafeTensorsFile(path: directory + "/expected/train.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/expected/train.json"))
    json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let forward = try SafeTensorsFile(path: directory + "/expected/tensors.safetensors")
    sample = TrainingSample(
      ids: try file.int64s("input/input_ids").map { Int($0) },
      labels: try file.int64s("input/labels").map { Int($0) },
      visionFeatures: try forward.floats("vision_features"))
  }

  var modelPath: String { directory + "/model" }

  /// The family's model in f64 with every tensor trainable (the `all` set), traversal as asked,
  /// and the sample builder that carries pixels for it.
  func allSetModel(traversal: Bool) throws -> (TrainingModel<Double>, SampleBuilder) {
    let model = try TrainingModel<Double>(path: modelPath, format: .f32)
    model.traversal = traversal
    try model.unfreezeAll()
    return (model, try SampleBuilder(modelDirectory: modelPath, trainable: .all))
  }

  func loss(_ step: String, _ key: String) -> Double {
    let loss = json["loss"] as! [String: Any]
    return (loss[step] as! [String: Any])[key] as! Double
  }

  var loraRank: Int { (json["lora"] as! [String: Any])["r"] as! Int }
  var loraAlpha: Double { Double((json["lora"] as! [String: Any])["alpha"] as! Int) }

  /// `init/lora/<m>.A|B` keyed `<m>.A|B`.
  func loraInit() throws -> [String: [Float]] {
    var values: [String: [Float]] = [:]
    for name in file.names where name.hasPrefix("init/lora/") {
      values[String(name.dropFirst("init/lora/".count))] = try file.floats(name)
    }
    return values
  }

  func golden(_ name: String) throws -> [Float] { try file.floats(name) }
}

/// Largest |a − b| over two equally long arrays.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "\(a.count) vs \(b.count)")
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func maxMagnitude(_ a: [Float]) -> Float { a.map(abs).max() ?? 0 }
