/// The job kinds the operator enqueues from images, with their stable names in the queue.
public enum ImageJobKind: String, Sendable, CaseIterable {
  /// Image + question -> answer. Payload: `{"image", "question", "id"?, "metadata"?}`.
  case answer = "trol.answer"
  /// Image -> caption. Payload: `{"image", "prompt", "id"?, "metadata"?}`.
  case caption = "trol.caption"

  /// The word operators type (`trolley enqueue answer`).
  public var shortName: String {
    switch self {
    case .answer: "answer"
    case .caption: "caption"
    }
  }
}
