/// A config type that keeps the keys it shares with a sibling config in one stored value
/// (`fields`) and reads them as its own: `config.hiddenSize` is `config.fields.hiddenSize`.
///
/// Both decoders (`InternLM2Config`, `Phi3Config`) share `DecoderFields`; both vision towers
/// (`CLIPVisionConfig`, `InternViTConfig`) share `ViTFields`. The shared keys are decoded,
/// defaulted, encoded and validated once, in those types.
@dynamicMemberLookup
public protocol SharedConfigFields {
  associatedtype Fields
  var fields: Fields { get set }
}

extension SharedConfigFields {
  public subscript<Value>(dynamicMember field: KeyPath<Fields, Value>) -> Value {
    fields[keyPath: field]
  }

  public subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
    get { fields[keyPath: field] }
    set { fields[keyPath: field] = newValue }
  }
}
