public import TrolleyJobContracts

/// The job kinds the operator enqueues from images. Their names in the queue and their payloads
/// are the shared contracts' (`TrolAnswer`, `TrolCaption`).
public enum ImageJobKind: Sendable, CaseIterable {
  /// Image + question -> answer. Payload: `TrolAnswer.Payload`.
  case answer
  /// Image -> caption. Payload: `TrolCaption.Payload`.
  case caption

  /// The kind in the queue.
  public var name: JobKindName {
    switch self {
    case .answer: .trolAnswer
    case .caption: .trolCaption
    }
  }

  /// The kind's stable name in the queue (`trol.answer`).
  public var rawValue: String { name.rawValue }

  /// The word operators type (`trolley enqueue answer`).
  public var shortName: String {
    switch self {
    case .answer: "answer"
    case .caption: "caption"
    }
  }
}
