import Foundation
import Testing

/// Issue 13, item 10: flag values that would overflow a duration are usage errors (exit 2), and
/// `trolley config` never prints a password, whatever characters it holds.
struct CraftedInputCommandTests {
  @Test(arguments: [
    ["--lease", "inf"], ["--lease", "nan"], ["--grace", "1e300"], ["--poll-interval", "0.0001"],
    ["--reindex-interval", "1e300"], ["--retain-succeeded", "forever"],
  ])
  func overflowingWorkerFlagsAreUsageErrors(_ flag: [String]) throws {
    let run = try TrolleyBinary.run(
      ["worker", "--kinds", "noop"] + flag,
      environment: ["TROLLEY_DATABASE_URL": "postgresql:///nowhere?host=/nonexistent"])
    #expect(run.status == 2, "\(flag): \(run.stderr)")
    #expect(run.stderr.contains(flag[0]), "the error names the flag: \(run.stderr)")
  }

  @Test func configMasksAPasswordHoldingAQuestionMark() throws {
    let run = try TrolleyBinary.run(
      ["config"],
      environment: ["TROLLEY_DATABASE_URL": "postgresql://trolley:s3cr?tpart@db.example/trolley"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("trolley:****@db.example"), "\(run.stdout)")
    #expect(!run.stdout.contains("s3cr") && !run.stdout.contains("tpart"), "\(run.stdout)")
  }
}
