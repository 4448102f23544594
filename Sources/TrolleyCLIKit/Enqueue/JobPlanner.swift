import Digest
import TrolleyJobContracts

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A job ready to go into the queue: its unique key and JSON payload.
public struct PlannedJob: Sendable, Equatable {
  /// The manifest line (or folder ordinal) the job came from.
  public var line: Int
  /// Stable across runs: re-enqueueing the same inputs yields the same key, so nothing is added.
  public var uniqueKey: String
  /// The job's payload as compact JSON text.
  public var payload: String
}

/// Turns manifest rows into job payloads and unique keys for one job kind, validating each row.
public struct JobPlanner: Sendable {
  /// The longest question or prompt accepted; longer text is almost certainly a broken manifest.
  public static let maximumTextBytes = 64 << 10

  public let kind: ImageJobKind
  /// The question (answer) or prompt (caption) for rows that carry none.
  public let defaultText: String?
  /// When true, rows whose local image file cannot be read are reported instead of enqueued.
  public let checksFiles: Bool

  /// The planned job for `row`, or the reason it cannot be enqueued.
  public func plan(_ row: ManifestRow) -> Result<PlannedJob, ManifestIssue> {
    let textKey = kind == .answer ? "question" : "prompt"
    let ownText = kind == .answer ? row.question : (row.prompt ?? row.question)
    guard let text = ownText ?? defaultText else {
      return .failure(
        ManifestIssue(
          line: row.line,
          message: "no question: add a \"question\" column or key, or pass --question"))
    }
    guard !text.trimmingSpaces().isEmpty else {
      return .failure(ManifestIssue(line: row.line, message: "the \(textKey) is empty"))
    }
    guard text.utf8.count <= Self.maximumTextBytes else {
      return .failure(
        ManifestIssue(
          line: row.line,
          message: "the \(textKey) is longer than \(Self.maximumTextBytes >> 10) KiB"))
    }
    if checksFiles, !ImagePath.isURL(row.image), access(row.image, R_OK) != 0 {
      let reason = errno == ENOENT ? "image not found" : "cannot read image"
      return .failure(
        ManifestIssue(
          line: row.line,
          message: "\(reason): \(row.image) (pass --no-check-files if workers see other files)"))
    }

    let metadata = row.metadata.isEmpty ? nil : JSONValue.object(row.metadata)
    let payload: String
    do {
      switch kind {
      case .answer:
        var answer = TrolAnswer.Payload(image: row.image, question: text)
        answer.id = row.id
        answer.metadata = metadata
        payload = try TrolAnswer.encode(answer)
      case .caption:
        var caption = TrolCaption.Payload(image: row.image, prompt: text)
        caption.id = row.id
        caption.metadata = metadata
        payload = try TrolCaption.encode(caption)
      }
    } catch {
      return .failure(
        ManifestIssue(line: row.line, message: "the row cannot be written as JSON: \(error)"))
    }
    return .success(
      PlannedJob(line: row.line, uniqueKey: uniqueKey(row, text: text), payload: payload))
  }

  /// The manifest id decides identity when there is one; otherwise the inputs themselves do.
  /// Fields are separated by NUL, which cannot occur in paths or JSON strings from a manifest.
  func uniqueKey(_ row: ManifestRow, text: String) -> String {
    var hasher = SHA256()
    hasher.update(kind.rawValue)
    if let id = row.id {
      hasher.update("\u{0}id\u{0}")
      hasher.update(id)
    } else {
      hasher.update("\u{0}image\u{0}")
      hasher.update(row.image)
      hasher.update("\u{0}text\u{0}")
      hasher.update(text)
    }
    return hasher.finalizeHex()
  }
}
