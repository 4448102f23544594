import Foundation
import Testing

/// What `dataset dedupe` records on the dataset's row, as `dataset list` shows it.
struct DatasetDedupeCommandTests {
  @Test func theDatasetRowSaysWhetherTheLastDedupeWasExactOnly() async throws {
    try await OperatorDatabase.with { db in
      #expect(try db.trolley("dataset", "create", "shapes").status == 0)
      let exact = try db.trolley("dataset", "dedupe", "shapes", "--exact")
      #expect(exact.status == 0, "\(exact.stderr)")
      let afterExact = try db.trolley("dataset", "list")
      #expect(afterExact.stdout.contains("shapes\tid "), "\(afterExact.stdout)")
      #expect(afterExact.stdout.contains("\tdedupe exact\n"), "\(afterExact.stdout)")
      let json = try db.trolley("dataset", "list", "--json")
      #expect(json.stdout.contains("\"dedupe_exact\":true"), "\(json.stdout)")

      let perceptual = try db.trolley(
        "dataset", "dedupe", "shapes", "--hash", "dhash", "--distance", "6")
      #expect(perceptual.status == 0, "\(perceptual.stderr)")
      let afterPerceptual = try db.trolley("dataset", "list")
      #expect(afterPerceptual.stdout.contains("\tdedupe dhash@6\n"), "\(afterPerceptual.stdout)")
      let json2 = try db.trolley("dataset", "list", "--json")
      #expect(json2.stdout.contains("\"dedupe_exact\":false"), "\(json2.stdout)")
    }
  }
}
