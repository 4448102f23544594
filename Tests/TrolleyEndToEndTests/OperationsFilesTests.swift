import Foundation
import TestFixtures
import Testing

/// The systemd unit and sysusers file as systemd itself judges them: `systemd-analyze verify`
/// prints nothing, `systemd-analyze security` rates the unit 4.0 or better (lower is safer), and
/// the instance's metrics port works for any instance number. (`systemd-analyze` runs offline,
/// without a running systemd; Ops/setup installs it.)
@Suite struct OperationsFilesTests {
  static let systemd = TestFixtures.repository.appendingPathComponent("Ops/systemd").path

  /// Runs a program and returns its exit status and combined output.
  static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// The template linked as instances 1 and 12 in a scratch folder (verify needs instance names).
  static func instances() throws -> String {
    let folder = NSTemporaryDirectory() + "trolley-units-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let template = folder + "/trolley-worker@.service"
    try FileManager.default.copyItem(atPath: systemd + "/trolley-worker@.service", toPath: template)
    for instance in ["1", "12"] {
      try FileManager.default.createSymbolicLink(
        atPath: folder + "/trolley-worker@\(instance).service", withDestinationPath: template)
    }
    return folder
  }

  static func requireSystemdAnalyze() throws {
    try #require(
      FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
      "systemd-analyze is missing; Ops/setup installs it (apt-get install systemd)")
  }

  @Test func verifyPrintsNothing() throws {
    try Self.requireSystemdAnalyze()
    let folder = try Self.instances()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let verify = try Self.run([
      "systemd-analyze", "verify", folder + "/trolley-worker@1.service",
      folder + "/trolley-worker@12.service",
    ])
    #expect(verify.status == 0, "\(verify.output)")
    #expect(verify.output.isEmpty, "systemd-analyze verify warned:\n\(verify.output)")
  }

  @Test func securityExposureIsAtMostFour() throws {
    try Self.requireSystemdAnalyze()
    let folder = try Self.instances()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let security = try Self.run([
      "systemd-analyze", "security", "--offline=true", "--no-pager",
      folder + "/trolley-worker@12.service",
    ])
    let line = try #require(
      security.output.split(separator: "\n").last { $0.contains("Overall exposure level") },
      "\(security.output)")
    let score = try #require(
      line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)"
    )
    #expect(score <= 4.0, "\(line)")
  }

  /// `systemd-sysusers` applied to a scratch root creates the user and group the unit runs as.
  @Test func sysusersCreatesTheTrolleyUser() throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-sysusers"))
    let root = NSTemporaryDirectory() + "trolley-sysusers-\(UUID().uuidString)"
    try FileManager.default.createDirectory(
      atPath: root + "/etc", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let run = try Self.run([
      "systemd-sysusers", "--root=" + root, Self.systemd + "/trolley.sysusers",
    ])
    #expect(run.status == 0, "\(run.output)")
    let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
    let entry = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("trolley:") })
    #expect(entry.hasSuffix(":/var/lib/trolley:/usr/sbin/nologin"), "\(entry)")
    let group = try String(contentsOfFile: root + "/etc/group", encoding: .utf8)
    #expect(group.contains("trolley:x:"))
  }

  /// Crash-loop back-off lives in [Unit] (systemd ignores it in [Service]), the unit runs as the
  /// user the sysusers.d file creates, and the port arithmetic works past instance 9.
  @Test func backOffUserAndPorts() throws {
    let unit = try String(
      contentsOfFile: Self.systemd + "/trolley-worker@.service", encoding: .utf8)
    let sections = unit.components(separatedBy: "\n[")
    let unitSection = try #require(sections.first { $0.hasPrefix("Unit]") })
    let serviceSection = try #require(sections.first { $0.hasPrefix("Service]") })
    #expect(unitSection.contains("\nStartLimitIntervalSec="))
    #expect(unitSection.contains("\nStartLimitBurst="))
    #expect(!serviceSection.contains("StartLimit"))
    #expect(serviceSection.contains("\nUser=trolley"))
    let sysusers = try String(contentsOfFile: Self.systemd + "/trolley.sysusers", encoding: .utf8)
    #expect(sysusers.split(separator: "\n").contains { $0.hasPrefix("u trolley ") })

    // The ExecStart command line, with systemd's own substitutions applied (%i, $$ -> $), run by
    // sh for instances 1, 12 and 250 with `trolley` replaced by echo: each gets 9400 + N.
    let execStart = try #require(
      serviceSection.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
    for instance in [1, 12, 250] {
      let command = String(execStart.dropFirst("ExecStart=/bin/sh -c '".count).dropLast())
        .replacingOccurrences(of: "%i", with: String(instance))
        .replacingOccurrences(of: "$$", with: "$")
        .replacingOccurrences(of: "exec /usr/local/bin/trolley", with: "echo")
      let run = try Self.run([
        "env", "TROLLEY_METRICS_BASE_PORT=9400", "TROLLEY_MODEL=/m", "sh", "-c", command,
      ])
      #expect(run.status == 0, "\(run.output)")
      #expect(run.output.contains("--metrics-port \(9400 + instance) "), "\(run.output)")
    }
  }
}
