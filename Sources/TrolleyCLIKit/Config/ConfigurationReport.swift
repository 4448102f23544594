import TrolleyJobContracts

/// What `trolley config` prints: every setting, its effective value (secrets masked) and source.
public enum ConfigurationReport {
  /// Where the database comes from when `database_url` is unset.
  static func databaseFallback(environment: [String: String], home: String) -> (String, String) {
    if let host = environment["PGHOST"], !host.isEmpty {
      let parts = ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"].compactMap { name in
        environment[name].flatMap { $0.isEmpty ? nil : "\(name)=\($0)" }
      }
      return ("(libpq variables: " + parts.joined(separator: " ") + ")", "env PGHOST")
    }
    return ("(embedded database under \(home))", "default")
  }

  /// A table for people.
  public static func text(_ configuration: Configuration, environment: [String: String]) -> String {
    var table = Table(columns: [
      Table.Column("KEY"), Table.Column("VALUE", flexible: true), Table.Column("SOURCE"),
    ])
    for setting in configuration.settings {
      if setting.value == nil, setting.key == .databaseURL {
        let (value, source) = databaseFallback(environment: environment, home: configuration.home)
        table.append([setting.key.name, value, source])
      } else {
        table.append([
          setting.key.name, setting.displayValue ?? "(unset)", setting.source.description,
        ])
      }
    }
    var lines = table.render()
    lines.append("")
    lines.append(
      "config file: "
        + (configuration.filePath
          ?? "none (looked for \(configuration.home)/config.toml and /etc/trolley/config.toml)"))
    lines.append("precedence: flags > environment variables > config file > defaults")
    return lines.joined(separator: "\n") + "\n"
  }

  /// The same facts as one JSON object.
  public static func json(_ configuration: Configuration, environment: [String: String]) -> String {
    var settings: [JSONValue] = []
    for setting in configuration.settings {
      var value = setting.displayValue.map(JSONValue.string) ?? .null
      var source = setting.source.description
      if setting.value == nil, setting.key == .databaseURL {
        let fallback = databaseFallback(environment: environment, home: configuration.home)
        value = .string(fallback.0)
        source = fallback.1
      }
      settings.append(
        .object([
          .init("key", .string(setting.key.name)), .init("value", value),
          .init("source", .string(source)),
          .init("environment", .array(setting.key.environment.map(JSONValue.string))),
          .init("secret", .bool(setting.key.isSecret)),
          .init("summary", .string(setting.key.summary)),
        ]))
    }
    let object = JSONValue.object([
      .init("config_file", configuration.filePath.map(JSONValue.string) ?? .null),
      .init("home", .string(configuration.home)),
      .init("settings", .array(settings)),
    ])
    return object.text + "\n"
  }
}
