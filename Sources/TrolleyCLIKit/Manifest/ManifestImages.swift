public import TrolleyBasics
public import TrolleyJobContracts

/// A manifest's rows grouped by image, for `trolley dataset ingest`: a VQA manifest has one row
/// per question (`image,question,answer`), several per image, and a dataset has one item per
/// image holding all of them.
public struct ManifestImage: Sendable, Equatable {
  /// One question of the image and its answer, if the manifest gave one.
  public struct QuestionAnswer: Sendable, Equatable {
    public var question: String
    public var answer: String?
  }

  /// An absolute path or a URL.
  public var image: String
  /// Questions in manifest order.
  public var questions: [QuestionAnswer] = []
  /// The `caption` column or key, from the first row that has one.
  public var caption: String?
  /// Every other column or key (the `id` too), from the image's first row, then keys only later
  /// rows have.
  public var metadata: [JSONValue.Member] = []
}

extension ManifestImage {
  /// The column or key holding a question's answer.
  static let answerColumn = "answer"
  /// The column or key holding a caption.
  static let captionColumn = "caption"

  /// Reads every entry of `source` and groups the rows by image, in order of first appearance.
  /// - Throws: `CLIError.invalidManifest` naming the first malformed rows (nothing is ingested
  ///   from a manifest with bad rows), or what opening and reading the source throws.
  public static func read(_ source: ManifestSource) throws(CLIError) -> [ManifestImage] {
    let reader = try source.open()
    var images: [ManifestImage] = []
    var index: [String: Int] = [:]
    var issues: [ManifestIssue] = []
    var issueCount = 0
    while let entry = try reader.next() {
      switch entry {
      case .issue(let issue):
        issueCount += 1
        if issues.count < 5 { issues.append(issue) }
      case .row(let row):
        let position: Int
        if let known = index[row.image] {
          position = known
        } else {
          position = images.count
          index[row.image] = position
          images.append(ManifestImage(image: row.image))
        }
        images[position].absorb(row)
      }
    }
    guard issueCount == 0 else {
      throw CLIError(
        .invalidManifest,
        "\(source.path): \(issueCount) rows cannot be read ("
          + issues.map(\.description).joined(separator: "; ")
          + "). Fix them and ingest again; nothing was added.")
    }
    return images
  }

  mutating func absorb(_ row: ManifestRow) {
    var answer: String?
    for member in row.metadata {
      switch member.key.lowercased() {
      case Self.answerColumn:
        answer = member.value.plainText.isEmpty ? nil : member.value.plainText
      case Self.captionColumn:
        if caption == nil, !member.value.plainText.isEmpty { caption = member.value.plainText }
      default:
        if !metadata.contains(where: { $0.key == member.key }) { metadata.append(member) }
      }
    }
    if let id = row.id, !metadata.contains(where: { $0.key == "id" }) {
      metadata.append(JSONValue.Member("id", .string(id)))
    }
    if let question = row.question, !question.isEmpty {
      questions.append(QuestionAnswer(question: question, answer: answer))
    }
  }
}
