import Testing
import TrolleyJobContracts

@testable import TrolleyCLIKit

struct JobPlannerTests {
  private let planner = JobPlanner(kind: .answer, defaultText: nil, checksFiles: false)

  @Test func payloadCarriesImageQuestionIdAndMetadata() throws {
    let row = ManifestRow(
      line: 3, image: "/d/a.jpg", question: "Why \"so\"?\n", id: "q-1",
      metadata: [JSONValue.Member("k", .number("2"))])
    let job = try planner.plan(row).get()
    #expect(
      job.payload
        == #"{"image":"/d/a.jpg","question":"Why \"so\"?\n","id":"q-1","metadata":{"k":2}}"#)
    #expect(job.line == 3)
  }

  @Test func uniqueKeysAreStableAndDependOnTheInputs() throws {
    let row = ManifestRow(line: 1, image: "/a.jpg", question: "q")
    let first = try planner.plan(row).get().uniqueKey
    #expect(first == (try planner.plan(row).get().uniqueKey))
    #expect(first.count == 64)
    var other = row
    other.question = "q2"
    #expect(first != (try planner.plan(other).get().uniqueKey))
    let caption = JobPlanner(kind: .caption, defaultText: "q", checksFiles: false)
    #expect(first != (try caption.plan(ManifestRow(line: 1, image: "/a.jpg")).get().uniqueKey))
    // With a manifest id, the id alone decides identity.
    var withID = row
    withID.id = "7"
    var sameID = other
    sameID.id = "7"
    #expect(try planner.plan(withID).get().uniqueKey == (try planner.plan(sameID).get().uniqueKey))
  }

  @Test func rowsWithoutAQuestionOrWithMissingFilesAreIssues() throws {
    guard case .failure(let issue) = planner.plan(ManifestRow(line: 9, image: "/a.jpg")) else {
      Issue.record("a row without a question must be refused")
      return
    }
    #expect(issue.line == 9 && issue.message.contains("--question"))
    let checking = JobPlanner(kind: .answer, defaultText: "q", checksFiles: true)
    guard case .failure(let missing) = checking.plan(ManifestRow(line: 2, image: "/no/such.jpg"))
    else {
      Issue.record("a missing file must be refused when files are checked")
      return
    }
    #expect(missing.message.contains("image not found: /no/such.jpg"))
    #expect((try? checking.plan(ManifestRow(line: 2, image: "https://h/x.jpg")).get()) != nil)
  }

  @Test func captionUsesTheRowPromptThenTheDefault() throws {
    let caption = JobPlanner(kind: .caption, defaultText: "Describe.", checksFiles: false)
    #expect(
      try caption.plan(ManifestRow(line: 1, image: "/a.jpg")).get().payload
        == #"{"image":"/a.jpg","prompt":"Describe."}"#)
    #expect(
      try caption.plan(ManifestRow(line: 1, image: "/a.jpg", prompt: "Short.")).get().payload
        == #"{"image":"/a.jpg","prompt":"Short."}"#)
  }
}
