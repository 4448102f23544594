import TestFixtures
import Testing
import TrolleyBasics
import TrolleyJobContracts

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

  /// Every file the walk passes over is reported with its reason, WebP/GIF/BMP are images.
  @Test func folderWalkReportsEverySkippedFile() throws {
    let folder = try TemporaryFolder()
    for name in ["a.webp", "b.GIF", "c.bmp", "d.heic", "notes.txt", "README", ".DS_Store", "e.png"]
    {
      try folder.write(name, "x")
    }
    let reader = try FolderManifestReader(root: folder.path)
    let rows = try entries(reader).count
    #expect(rows == 4)
    let skipped = reader.skippedFiles
    #expect(skipped.count == 4)
    let reasons = Dictionary(
      uniqueKeysWithValues: skipped.first.map {
        (String($0.path.dropFirst(folder.path.count + 1)), $0.reason)
      })
    #expect(reasons[".DS_Store"]?.contains("hidden") == true)
    #expect(reasons["d.heic"]?.contains(".heic is not an image format") == true)
    #expect(reasons["notes.txt"]?.contains(".webp") == true)
    #expect(reasons["README"]?.contains("no file extension") == true)
  }

  @Test func tsvManifestsAndChosenColumns() throws {
    let folder = try TemporaryFolder()
    let tsv = try folder.write(
      "m.tsv", "photo\tq\tcamera\na.jpg\tWhat, here?\tnikon\n\"b c.jpg\"\t\"tab\there\"\tx\n")
    let rows = try entries(
      try ManifestSource.detect(tsv).open(
        columns: ManifestColumnChoice(image: "Photo", question: "q")))
    #expect(
      rows[0]
        == .row(
          ManifestRow(
            line: 2, image: folder.path + "/a.jpg", question: "What, here?", prompt: "What, here?",
            metadata: [JSONValue.Member("camera", .string("nikon"))])))
    guard case .row(let second) = rows[1] else {
      Issue.record("expected a row, got \(rows[1])")
      return
    }
    #expect(second.image == folder.path + "/b c.jpg" && second.question == "tab\there")
    // Without the choice, the header has no image column: the error names the option.
    #expect {
      _ = try ManifestSource.detect(tsv).open()
    } throws: { error in
      (error as? CLIError)?.message.contains("no image column") == true
    }
    #expect {
      _ = try ManifestSource.detect(tsv).open(columns: ManifestColumnChoice(image: "picture"))
    } throws: { error in
      (error as? CLIError)?.message.contains("--image-column picture is not in the header") == true
    }
    let jsonl = try folder.write(
      "m.jsonl", #"{"pic": "x.png", "ask": "Why?", "image": "meta"}"# + "\n")
    let json = try entries(
      try ManifestSource.detect(jsonl).open(
        columns: ManifestColumnChoice(image: "pic", question: "ask")))
    guard case .row(let row) = json[0] else {
      Issue.record("expected a row, got \(json)")
      return
    }
    #expect(row.image == folder.path + "/x.png" && row.question == "Why?")
    #expect(row.metadata == [JSONValue.Member("image", .string("meta"))])
  }

  @Test func plainPathListsSkipBlanksAndComments() throws {
    let folder = try TemporaryFolder()
    let list = try folder.write(
      "l/list.txt", "# photos\r\na.jpg\r\n\n  /abs/b.png  \nhttps://h/c.webp\n")
    #expect(try ManifestSource.detect(list) == .paths(list))
    let rows = try entries(try ManifestSource.detect(list).open())
    #expect(
      rows == [
        .row(ManifestRow(line: 2, image: folder.path + "/l/a.jpg")),
        .row(ManifestRow(line: 4, image: "/abs/b.png")),
        .row(ManifestRow(line: 5, image: "https://h/c.webp")),
      ])
    #expect(throws: CLIError(.invalidArgument, "")) {
      _ = try ManifestSource.detect(list).open(columns: ManifestColumnChoice(image: "x"))
    }
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
    let text = try folder.write("notes.md", "")
    #expect(try ManifestSource.detect(folder.path) == .folder(folder.path))
    #expect(try ManifestSource.detect(csv) == .csv(csv))
    #expect(try ManifestSource.detect(folder.path + "/*.jpg") == .glob(folder.path + "/*.jpg"))
    #expect(throws: CLIError(.invalidArgument, "")) { try ManifestSource.detect(text) }
    #expect(throws: CLIError(.notFound, "")) { try ManifestSource.detect(folder.path + "/missing") }
  }
}
