/// Which parameters a run trains (training.md, "Trainable sets").
public enum TrainableSet: String, Sendable, CaseIterable, Codable {
  /// The projector and the TroL gate.
  case step1
  /// step1 plus LoRA on every decoder linear.
  case step2
  /// Every parameter, vision tower included, except PLoRA (frozen in every set, training.md):
  /// for small models trained from scratch. The checkpoint's tensors are trained in f32.
  case all

  public var usesLoRA: Bool { self == .step2 }
  /// Whether the decoder's own weights and the vision tower train (they are frozen otherwise).
  public var trainsEverything: Bool { self == .all }

  /// The names as options and settings spell them, for error messages.
  public static var spelled: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
