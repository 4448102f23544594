/// The names manifests may use for the fields Trolley understands; anything else is metadata.
enum ManifestColumns {
  static let image: Set<String> = ["image", "image_path", "image_url", "path", "url", "file"]
  static let question = "question"
  static let prompt = "prompt"
  static let id = "id"
  static let metadata = "metadata"

  /// What operators should name their columns, for error messages.
  static let hint =
    "name the column with image paths or URLs \"image\", and optionally add \"question\", "
    + "\"prompt\" and \"id\"; other columns are kept as metadata"
}

/// Column names the operator chose (`--image-column`, `--question-column`) instead of the
/// usual ones; nil keeps the defaults.
public struct ManifestColumnChoice: Sendable, Equatable {
  /// The column or key holding the image path or URL.
  public var image: String?
  /// The column or key holding each row's question (answer jobs) or prompt (caption jobs).
  public var question: String?

  public init(image: String? = nil, question: String? = nil) {
    self.image = image?.trimmingSpaces().lowercased()
    self.question = question?.trimmingSpaces().lowercased()
  }

  /// The defaults: `image` (or path, url, ...), `question` and `prompt`.
  public static let standard = ManifestColumnChoice()
}
