import TestFixtures
import Testing
import TrolleyBasics

@testable import TrolleyCLIKit

struct ConfigurationTests {
  @Test func flagsBeatEnvironmentBeatsFileBeatsDefault() throws {
    let folder = try TemporaryFolder()
    try folder.write(
      "config.toml",
      """
      # Trolley settings
      queue = "from-file"   # a comment
      max_attempts = 7
      priority = 4
      caption_prompt = "Say \\"hi\\" # not a comment"
      """)
    let configuration = try Configuration.resolve(
      flags: [.queue: (flag: "--queue", value: "from-flag")],
      environment: ["TROLLEY_HOME": folder.path, "TROLLEY_MAX_ATTEMPTS": "9", "HOME": "/nowhere"])
    #expect(configuration.setting(.queue).value == "from-flag")
    #expect(configuration.setting(.queue).source == .flag("--queue"))
    #expect(configuration.setting(.maxAttempts).value == "9")
    #expect(configuration.setting(.maxAttempts).source == .environment("TROLLEY_MAX_ATTEMPTS"))
    #expect(
      configuration.setting(.priority).source == .file(path: folder.path + "/config.toml", line: 4))
    #expect(configuration.value(.captionPrompt) == "Say \"hi\" # not a comment")
    #expect(configuration.setting(.color).source == .builtIn)
    #expect(configuration.setting(.databaseURL).source == .unset)
  }

  @Test func badFilesNameTheLineAndTheKnownKeys() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("c.toml", "queue = a\ndatabse_url = x\n")
    #expect {
      _ = try Configuration.resolve(environment: [:], configFile: path)
    } throws: { error in
      let error = try #require(error as? CLIError)
      return error.code == .invalidConfiguration && error.message.contains("line 2")
        && error.message.contains("database_url")
    }
    #expect(throws: CLIError(.notFound, "")) {
      _ = try Configuration.resolve(environment: ["TROLLEY_CONFIG": folder.path + "/missing.toml"])
    }
  }

  /// TOML's literal strings are taken as written, basic strings use TOML's escapes, and what the
  /// flat subset cannot represent is rejected with the line, never misread.
  @Test func tomlStringsParseAsTOMLDoes() throws {
    let file = try ConfigurationFile(
      path: "c.toml",
      contents: """
        queue = 'bulk'   # a literal string
        caption_prompt = "Tab\\there \\u00e9\\U0001F680 \\"q\\" # kept"
        database_url = 'C:\\path\\with #hash'
        priority = 5
        """)
    #expect(file.entries["queue"]?.value == "bulk")
    #expect(file.entries["caption_prompt"]?.value == "Tab\there é🚀 \"q\" # kept")
    #expect(file.entries["database_url"]?.value == #"C:\path\with #hash"#)
    #expect(file.entries["priority"]?.value == "5")
    let bad: [(String, String)] = [
      ("queue = 'open", "single quote"),
      ("queue = \"open", "unclosed"),
      ("queue = \"a\" b", "after the closing quote"),
      ("queue = \"\\q\"", "escape"),
      ("queue = a\"b", "Quote the whole value"),
      ("queue = ['a', 'b']", "array"),
      ("queue = \"\"\"x", "multi-line"),
    ]
    for (line, words) in bad {
      #expect(
        performing: {
          _ = try ConfigurationFile(path: "c.toml", contents: "priority = 1\n" + line)
        },
        throws: { error in
          let error = try #require(error as? CLIError)
          return error.code == .invalidConfiguration && error.message.contains("line 2")
            && error.message.contains(words)
        })
    }
  }

  @Test func invalidValuesNameTheirSource() throws {
    let configuration = try Configuration.resolve(
      flags: [.priority: (flag: "--priority", value: "high")],
      environment: ["TROLLEY_MAX_ATTEMPTS": "0", "HOME": "/nowhere"])
    #expect(throws: CLIError(.invalidArgument, "")) {
      _ = try configuration.integer(.priority, in: -1000...1000)
    }
    #expect {
      _ = try configuration.integer(.maxAttempts, in: 1...100)
    } throws: { error in
      (error as? CLIError)?.message.contains("env TROLLEY_MAX_ATTEMPTS") == true
    }
  }

  @Test(arguments: [
    (
      "postgresql://user:s3cr%40t@db.example:5432/trolley?sslmode=require",
      "postgresql://user:****@db.example:5432/trolley?sslmode=require"
    ),
    ("postgres://user@host/db?password=secret&x=1", "postgres://user@host/db?password=****&x=1"),
    (
      "host=/tmp port=5433 password='a b\\' c' user=me", "host=/tmp port=5433 password=**** user=me"
    ),
    ("host=db password=plain", "host=db password=****"),
    ("postgresql:///trolley?host=/tmp", "postgresql:///trolley?host=/tmp"),
    // Issue 13: a password holding '?' (or '&', '#') must not end the user info early.
    (
      "postgresql://trolley:s3cr?t@db.example/trolley",
      "postgresql://trolley:****@db.example/trolley"
    ),
    ("postgres://u:a?b&c#d@h:5432/db?password=x", "postgres://u:****@h:5432/db?password=****"),
  ])
  func masksPasswords(input: String, masked: String) {
    #expect(SecretMasking.maskConnectionString(input) == masked)
  }

  @Test func noColorMeansNever() throws {
    let configuration = try Configuration.resolve(environment: [
      "NO_COLOR": "1", "HOME": "/nowhere",
    ])
    #expect(configuration.value(.color) == "never")
  }
}
