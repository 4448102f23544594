import ArgumentParser
import BuildInfo
import Foundation

/// `trolley manual`: prints the man page, built from the same help text as `--help`.
///
/// Hidden from the command list: it exists for `Ops/install`, which installs its output as
/// `share/man/man1/trolley.1`. Generating it from the commands keeps the page true to the binary.
struct Manual: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print trolley's man page (roff), generated from every command's --help.",
    discussion: """
      Example:
        trolley manual > trolley.1 && man -l trolley.1
      """,
    shouldDisplay: false)

  func run() throws {
    print(Self.page(), terminator: "")
  }

  /// The whole page: name, synopsis, description, then one section per command, in the order
  /// `trolley --help` lists them, each holding that command's help text verbatim.
  static func page() -> String {
    var page = """
      .TH TROLLEY 1 "" "trolley \(escape(TrolleyBuild.description))" "User Commands"
      .SH NAME
      trolley \\- \(escape(Trolley.configuration.abstract))
      .SH SYNOPSIS
      .B trolley
      .I command
      .RI [ options ]
      .SH DESCRIPTION
      Trolley runs the TroL vision-language model over image collections, with PostgreSQL as the
      queue. Every command below also prints its section with \\fB--help\\fR.
      Exit codes: 0 ok, 1 failure, 2 usage error.

      """
    for (path, command) in commands(Trolley.self, path: []) {
      page +=
        ".SH \"\(escape(path.isEmpty ? "GLOBAL" : "trolley " + path.joined(separator: " ")))\"\n"
      page += ".nf\n"
      for line in Trolley.helpMessage(for: command, columns: 100).split(
        separator: "\n", omittingEmptySubsequences: false)
      {
        page += escapeLine(String(line)) + "\n"
      }
      page += ".fi\n"
    }
    page += """
      .SH ENVIRONMENT
      TROLLEY_DATABASE_URL, DATABASE_URL, PGHOST and libpq's variables choose the database;
      TROLLEY_HOME holds the embedded database and config.toml; see \\fBtrolley config\\fR.
      .SH SEE ALSO
      docs/cli.md, docs/operations.md and docs/troubleshooting.md in Trolley's source tree.

      """
    return page
  }

  /// Every visible command under `root`, depth first, with the words that name it.
  static func commands(_ root: any ParsableCommand.Type, path: [String]) -> [(
    [String], any ParsableCommand.Type
  )] {
    var result: [([String], any ParsableCommand.Type)] = [(path, root)]
    for sub in root.configuration.subcommands where sub.configuration.shouldDisplay {
      result += commands(sub, path: path + [sub._commandName])
    }
    return result
  }

  /// Escapes roff's backslash and hyphen-as-minus in running text.
  static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
  }

  /// A line of preformatted text: escaped, and protected from being read as a roff request.
  static func escapeLine(_ line: String) -> String {
    let escaped = escape(line)
    return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
  }
}
