/// Which parameters a run trains (training.md, "Trainable sets").
public enum TrainableSet: String, Sendable, CaseIterable, Codable {
  /// The projector and the TroL gate.
  case step1
  /// step1 plus LoRA on every decoder linear.
  case step2

  public var usesLoRA: Bool { self == .step2 }
}
