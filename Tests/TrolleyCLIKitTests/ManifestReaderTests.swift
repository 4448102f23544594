import Testing

@testable import TrolleyCLIKit

struct ManifestReaderTests {
  private func entries(_ reader: any ManifestReader) throws -> [ManifestEntry] {
    var out: [ManifestEntry] = []
    while let entry = try reader.next() { out.append(entry) }
    return out
  }

  @Test func csvRowsResolvePathsAndKeepExtraColumnsAsMetadata() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write(
      "sub/m.csv",
      "Image,question,id,camera\nimgs/a.jpg,\"What, is this?\",7,nikon\nhttps://x.org/b.png,,,\n"
        + "c.jpg,Only two\n,empty image,1,x\n")
    let result = try entries(try CSVManifestReader(path: path))
    #expect(result.count == 4)
    #expect(
      result[0]
        == .row(
          ManifestRow(
            line: 2, image: folder.path + "/sub/imgs/a.jpg", question: "What, is this?", id: "7",
            metadata: [JSONValue.Member("camera", .string("nikon"))])))
    #expect(
      result[1]
        == .row(
          ManifestRow(
            line: 3, image: "https://x.org/b.png",
            metadata: [JSONValue.Member("camera", .string(""))]
          )))
    guard case .issue(let short) = result[2], case .issue(let empty) = result[3] else {
      Issue.record("expected two issues, got \(result)")
      return
    }
    #expect(short.line == 4 && short.message.contains("expected 4 fields"))
    #expect(empty.line == 5 && empty.message.contains("empty"))
  }

  @Test func csvWithoutAnImageColumnIsRejectedWithTheColumnsItHas() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("m.csv", "picture,question\na.jpg,q\n")
    #expect {
      _ = try CSVManifestReader(path: path)
    } throws: { error in
      let error = try #require(error as? CLIError)
      return error.code == .invalidManifest && error.message.contains("picture, question")
        && error.message.contains("\"image\"")
    }
  }

  @Test func jsonlRowsAndBadLines() throws {
    let folder = try TemporaryFolder()
    let lines = [
      #"{"image":"a.jpg","question":"Qu'est-ce que c'est ? 🐈","id":12,"metadata":{"k":[1,2]},"extra":true}"#,
      "",
      #"{"image":"b.jpg","question":"x",}"#,
      #"["not","an","object"]"#,
      #"{"question":"no image"}"#,
      #"{"image":"c.jpg","question":5}"#,
      #"{"url":"http://h/d.png"}"#,
    ]
    let path = try folder.write("m.jsonl", lines.joined(separator: "\r\n") + "\n")
    let result = try entries(try JSONLManifestReader(path: path))
    #expect(result.count == 6)
    #expect(
      result[0]
        == .row(
          ManifestRow(
            line: 1, image: folder.path + "/a.jpg", question: "Qu'est-ce que c'est ? 🐈", id: "12",
            metadata: [
              JSONValue.Member("k", .array([.number("1"), .number("2")])),
              JSONValue.Member("extra", .bool(true)),
            ])))
    let issues = result.compactMap { entry -> ManifestIssue? in
      if case .issue(let issue) = entry { return issue }
      return nil
    }
    #expect(issues.map(\.line) == [3, 4, 5, 6])
    #expect(issues[0].message.contains("not valid JSON"))
    #expect(issues[1].message.contains("found an array"))
    #expect(issues[2].message.contains("no \"image\""))
    #expect(issues[3].message.contains("\"question\" must be a string"))
    #expect(result[5] == .row(ManifestRow(line: 7, image: "http://h/d.png")))
  }

  @Test func folderWalkIsRecursiveSortedAndFiltersByExtension() throws {
    let folder = try TemporaryFolder()
    for name in ["b.JPG", "a/z.png", "a/b/c.jpeg", "a.txt", ".hidden/x.jpg", "c/.y.jpg", "ä.jpg"] {
      try folder.write(name, "x")
    }
    let rows = try entries(try FolderManifestReader(root: folder.path))
    let images = rows.compactMap { entry -> String? in
      if case .row(let row) = entry { return String(row.image.dropFirst(folder.path.count + 1)) }
      return nil
    }
    #expect(images == ["a/b/c.jpeg", "a/z.png", "b.JPG", "ä.jpg"])
  }

  @Test func globMatchesAcrossFoldersWithDoubleStar() throws {
    let folder = try TemporaryFolder()
    for name in ["x/1.jpg", "x/y/2.jpg", "x/y/3.png", "z/4.jpg"] { try folder.write(name, "x") }
    let pattern = folder.path + "/x/**/*.jpg"
    let rows = try entries(try GlobManifestReader(pattern: pattern))
    #expect(rows.count == 2)
    #expect(GlobPattern("/a/*/c?.jpg").matches(relativePath: "b/c1.jpg"))
    #expect(!GlobPattern("/a/*/c?.jpg").matches(relativePath: "b/d/c1.jpg"))
    #expect(GlobPattern("/a/**").matches(relativePath: "b/d/c1.jpg"))
  }

  @Test func detectsTheSourceKindAndExplainsWhatIsAccepted() throws {
    let folder = try TemporaryFolder()
    let csv = try folder.write("m.csv", "image\n")
    let text = try folder.write("notes.txt", "")
    #expect(try ManifestSource.detect(folder.path) == .folder(folder.path))
    #expect(try ManifestSource.detect(csv) == .csv(csv))
    #expect(try ManifestSource.detect(folder.path + "/*.jpg") == .glob(folder.path + "/*.jpg"))
    #expect(throws: CLIError(.invalidArgument, "")) { try ManifestSource.detect(text) }
    #expect(throws: CLIError(.notFound, "")) { try ManifestSource.detect(folder.path + "/missing") }
  }
}
