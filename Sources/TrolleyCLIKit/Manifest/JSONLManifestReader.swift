import TrolleyJobContracts

/// Reads a JSON Lines manifest: one object per line with an image path or URL and optional
/// question, prompt, id and metadata; any other keys are kept as metadata too.
public final class JSONLManifestReader: ManifestReader {
  private let lines: ManifestLines
  private let columns: ManifestColumnChoice

  /// Opens `path`.
  /// - Parameter columns: Key names chosen on the command line, else the usual ones.
  /// - Throws: `CLIError.notFound` or `.io`.
  public init(path: String, columns: ManifestColumnChoice = .standard) throws(CLIError) {
    lines = try ManifestLines(path: path)
    self.columns = columns
  }

  public func next() throws(CLIError) -> ManifestEntry? {
    while case (let line, var bytes)? = try lines.next() {
      if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      let value: JSONValue
      do {
        value = try bytes.withUnsafeBufferPointer { buffer throws(JSONParser.Failure) in
          try JSONParser.parse(bytes: buffer)
        }
      } catch {
        return .issue(
          ManifestIssue(
            line: line, message: "not valid JSON: \(error.reason) (column \(error.column))"))
      }
      switch row(from: value, line: line) {
      case .success(let row): return .row(row)
      case .failure(let issue): return .issue(issue)
      }
    }
    return nil
  }

  private func row(from value: JSONValue, line: Int) -> Result<ManifestRow, ManifestIssue> {
    guard case .object(let members) = value else {
      return .failure(
        ManifestIssue(
          line: line,
          message: "expected a JSON object like {\"image\": \"a.jpg\"}, found \(value.typeName)"))
    }
    var image: String?
    var row = ManifestRow(line: line, image: "")
    for member in members {
      let key = member.key
      let isImage =
        columns.image.map { key.lowercased() == $0 } ?? ManifestColumns.image.contains(key)
      let isText =
        columns.question.map { key.lowercased() == $0 }
        ?? (key == ManifestColumns.question || key == ManifestColumns.prompt)
      switch key {
      case _ where isImage && image == nil:
        guard case .string(let text) = member.value, !text.trimmingSpaces().isEmpty else {
          return .failure(
            ManifestIssue(
              line: line,
              message: "\"\(key)\" must be a non-empty string, found \(member.value.typeName)"))
        }
        image = text.trimmingSpaces()
      case _ where isText:
        switch member.value {
        case .null: continue
        case .string(let text):
          if columns.question != nil {
            row.question = text
            row.prompt = text
          } else if member.key == ManifestColumns.question {
            row.question = text
          } else {
            row.prompt = text
          }
        default:
          return .failure(
            ManifestIssue(
              line: line,
              message: "\"\(member.key)\" must be a string, found \(member.value.typeName)"))
        }
      case ManifestColumns.id:
        switch member.value {
        case .null: continue
        case .string(let text): row.id = text
        case .number(let text): row.id = text
        default:
          return .failure(
            ManifestIssue(
              line: line,
              message: "\"id\" must be a string or a number, found \(member.value.typeName)"))
        }
      case ManifestColumns.metadata:
        switch member.value {
        case .null: continue
        case .object(let inner): row.metadata.append(contentsOf: inner)
        default:
          return .failure(
            ManifestIssue(
              line: line,
              message: "\"metadata\" must be an object, found \(member.value.typeName)"))
        }
      default:
        row.metadata.append(member)
      }
    }
    guard let image else {
      return .failure(
        ManifestIssue(
          line: line,
          message: "no \"\(columns.image ?? "image")\" key; each line needs the image path or URL"))
    }
    row.image = ImagePath.resolve(image, relativeTo: lines.baseDirectory)
    return .success(row)
  }
}
