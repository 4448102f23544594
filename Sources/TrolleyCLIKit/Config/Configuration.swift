public import TrolleyBasics

/// The effective settings and where each came from: flag, then environment, then configuration
/// file, then built-in default.
public struct Configuration: Sendable {
  /// Where a setting's value came from.
  public enum Source: Sendable, Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(path: String, line: Int)
    case builtIn
    case unset

    public var description: String {
      switch self {
      case .flag(let name): "flag \(name)"
      case .environment(let name): "env \(name)"
      case .file(let path, let line): "\(path):\(line)"
      case .builtIn: "default"
      case .unset: "unset"
      }
    }
  }

  /// One key's effective value.
  public struct Setting: Sendable, Equatable {
    public let key: ConfigurationKey
    public let value: String?
    public let source: Source

    /// The value as it may be printed: secrets masked.
    public var displayValue: String? {
      guard let value else { return nil }
      return key.isSecret ? SecretMasking.maskConnectionString(value) : value
    }
  }

  /// The configuration file that was read, if any, and how it was chosen.
  public let filePath: String?
  /// Every key's effective value, in `ConfigurationKey.all` order.
  public let settings: [Setting]
  /// Trolley's data folder (`TROLLEY_HOME`, default `~/.local/share/trolley`).
  public let home: String

  /// Environment variable naming the configuration file.
  public static let fileEnvironmentVariable = "TROLLEY_CONFIG"

  /// Resolves every key.
  /// - Parameters:
  ///   - flags: Values given on the command line, with the flag's spelling for messages.
  ///   - environment: The process environment.
  ///   - configFile: `--config`, if given; it must exist.
  /// - Throws: `CLIError.notFound` for a named file that does not exist, `.invalidConfiguration`
  ///   for a malformed file.
  public static func resolve(
    flags: [ConfigurationKey: (flag: String, value: String)] = [:],
    environment: [String: String],
    configFile: String? = nil
  ) throws(CLIError) -> Configuration {
    let home =
      environment["TROLLEY_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? "/root") + "/.local/share/trolley")
    var file: ConfigurationFile?
    if let explicit = configFile
      ?? environment[fileEnvironmentVariable].flatMap({ $0.isEmpty ? nil : $0 })
    {
      let origin = configFile != nil ? "--config" : fileEnvironmentVariable
      guard FileText.exists(explicit) else {
        throw CLIError(
          .notFound,
          "the configuration file \(explicit) (from \(origin)) does not exist. Create it or "
            + "fix the path.")
      }
      file = try ConfigurationFile(path: explicit, contents: FileText.read(explicit))
    } else {
      for candidate in [home + "/config.toml", "/etc/trolley/config.toml"]
      where FileText.exists(candidate) {
        file = try ConfigurationFile(path: candidate, contents: FileText.read(candidate))
        break
      }
    }
    var settings: [Setting] = []
    for key in ConfigurationKey.all {
      if let flag = flags[key] {
        settings.append(Setting(key: key, value: flag.value, source: .flag(flag.flag)))
      } else if let name = key.environment.first(where: { !(environment[$0] ?? "").isEmpty }),
        let value = environment[name]
      {
        settings.append(Setting(key: key, value: value, source: .environment(name)))
      } else if key == .color, environment["NO_COLOR"].map({ !$0.isEmpty }) == true {
        settings.append(Setting(key: key, value: "never", source: .environment("NO_COLOR")))
      } else if let entry = file?.entries[key.name], let path = file?.path {
        settings.append(
          Setting(key: key, value: entry.value, source: .file(path: path, line: entry.line)))
      } else if let value = key.defaultValue {
        settings.append(Setting(key: key, value: value, source: .builtIn))
      } else {
        settings.append(Setting(key: key, value: nil, source: .unset))
      }
    }
    return Configuration(filePath: file?.path, settings: settings, home: home)
  }

  /// The setting for `key`.
  public func setting(_ key: ConfigurationKey) -> Setting {
    settings.first { $0.key == key } ?? Setting(key: key, value: nil, source: .unset)
  }

  /// The effective value of `key`, or nil when unset.
  public func value(_ key: ConfigurationKey) -> String? { setting(key).value }

  /// The value of `key` as a whole number within `range`.
  /// - Throws: `CLIError.invalidArgument` (from a flag) or `.invalidConfiguration`, naming the source.
  public func integer(_ key: ConfigurationKey, in range: ClosedRange<Int>) throws(CLIError) -> Int?
  {
    let setting = setting(key)
    guard let text = setting.value else { return nil }
    guard let number = Int(text.trimmingSpaces()), range.contains(number) else {
      throw invalid(
        setting, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
  }

  /// The value of `key` as a number greater than zero.
  /// - Throws: `CLIError.invalidArgument` or `.invalidConfiguration`, naming the source.
  public func positiveNumber(_ key: ConfigurationKey) throws(CLIError) -> Double? {
    let setting = setting(key)
    guard let text = setting.value else { return nil }
    guard let number = Double(text.trimmingSpaces()), number > 0, number.isFinite else {
      throw invalid(setting, expected: "a number greater than 0")
    }
    return number
  }

  /// The value of `key`, which must be one of `choices`.
  /// - Throws: `CLIError.invalidArgument` or `.invalidConfiguration`, naming the source.
  public func choice(_ key: ConfigurationKey, among choices: [String]) throws(CLIError) -> String? {
    let setting = setting(key)
    guard let text = setting.value else { return nil }
    guard choices.contains(text) else {
      throw invalid(setting, expected: "one of " + choices.joined(separator: ", "))
    }
    return text
  }

  private func invalid(_ setting: Setting, expected: String) -> CLIError {
    let shown = setting.displayValue ?? ""
    switch setting.source {
    case .flag(let flag):
      return CLIError(.invalidArgument, "\(flag) \"\(shown)\" is not valid: expected \(expected).")
    default:
      return CLIError(
        .invalidConfiguration,
        "\(setting.key.name) = \"\(shown)\" (from \(setting.source)) is not valid: expected "
          + "\(expected). Fix it there or override it with a flag.")
    }
  }
}
