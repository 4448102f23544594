/// A tokenizer that reproduces a reference Hugging Face tokenizer exactly.
///
/// Conforming types are immutable after loading and safe to share between threads.
public protocol TextTokenizer: Sendable, AnyObject {
  /// Number of ids the tokenizer can produce or name (base vocabulary plus added tokens);
  /// transformers' `len(tokenizer)`.
  var vocabularySize: Int { get }
  var bosTokenID: Int? { get }
  /// The end-of-sequence id transformers reports (`tokenizer.eos_token_id`), TroL's stop token.
  var eosTokenID: Int? { get }

  /// Token ids of `text`. `addSpecialTokens` adds what the reference's `add_special_tokens=True`
  /// adds (a leading `<s>` for both families); TroL's prompts use `false`.
  func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
  /// Text of `ids` as the reference `decode(ids, skip_special_tokens:)` returns it. Ids the
  /// tokenizer does not know are dropped, as the fast tokenizer does.
  func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
  /// The id of a token string (an added token or a vocabulary piece), or nil if it has none.
  func tokenID(_ token: String) -> Int?
  /// The token string of an id (transformers' `convert_ids_to_tokens`), or nil.
  func token(forID id: Int) -> String?
  /// Whether `decode(skipSpecialTokens: true)` drops this id.
  func isSpecial(_ id: Int) -> Bool
}

extension TextTokenizer {
  /// Token ids without special tokens added, as TroL encodes its prompts.
  public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: false) }

  public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: false) }

  public func tokens(forIDs ids: [Int]) -> [String] { ids.compactMap { token(forID: $0) } }
}
