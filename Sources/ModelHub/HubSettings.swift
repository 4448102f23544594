public import Foundation

/// Where the Hugging Face hub is and who we are to it, read from the same environment variables
/// the hub's own tools (`huggingface-cli`, `huggingface_hub`) read.
public struct HubSettings: Sendable, Hashable {
  /// `HF_ENDPOINT`, default `https://huggingface.co` (no trailing slash).
  public var endpoint: String
  /// `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the file `$HF_HOME/token` that
  /// `huggingface-cli login` writes; nil for anonymous access.
  public var token: String?
  /// The hub cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
  public var cache: String

  public init(endpoint: String, token: String?, cache: String) {
    var endpoint = endpoint
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    self.endpoint = endpoint
    self.token = token
    self.cache = cache
  }

  /// The settings from `environment` (the process's by default).
  public static func fromEnvironment(
    _ environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> HubSettings {
    func value(_ name: String) -> String? {
      guard let text = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines),
        !text.isEmpty
      else { return nil }
      return text
    }
    let home =
      value("HF_HOME")
      ?? ((value("XDG_CACHE_HOME") ?? ((value("HOME") ?? NSHomeDirectory()) + "/.cache"))
        + "/huggingface")
    var token = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
    if token == nil, let data = FileManager.default.contents(atPath: home + "/token") {
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
      token = text.isEmpty ? nil : text
    }
    return HubSettings(
      endpoint: value("HF_ENDPOINT") ?? "https://huggingface.co", token: token,
      cache: value("HF_HUB_CACHE") ?? home + "/hub")
  }
}
