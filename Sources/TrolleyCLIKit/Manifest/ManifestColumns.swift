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
