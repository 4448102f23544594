import Foundation
import Testing
import TrolleyJobContracts

/// What enqueue encodes is what the kind decodes: each contract's payload survives the trip
/// through `JobJSONEncoder` and the worker's `JSONDecoder`, and its result the trip through the
/// worker's `JSONEncoder` and back. The texts are docs/cli.md's.
struct ContractRoundTripTests {
  static func roundTrip<C: JobContract>(_: C.Type, _ payload: C.Payload) throws -> (
    String, C.Payload
  )
  where C.Payload: Equatable {
    let text = try C.encode(payload)
    return (text, try C.decodePayload(Data(text.utf8)))
  }

  static func resultRoundTrip<C: JobContract>(_: C.Type, _ result: C.Result) throws -> C.Result {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return try JSONDecoder().decode(C.Result.self, from: encoder.encode(result))
  }

  /// Keys sorted, as the worker's encoder writes them and any decoder reads them back.
  static let timings = JobJSON.object([
    .init("decode_tokens_per_s", .number("2")), .init("image_preprocessing_s", .number("0.5")),
    .init("prefill_tokens", .number("31")),
  ])

  @Test func answer() throws {
    var payload = TrolAnswer.Payload(image: "/d/a.jpg", question: "Why \"so\"?\n")
    payload.id = "q-1"
    payload.metadata = .object([
      .init("k", .number("2")), .init("tags", .array([.string("x"), .null])),
    ])
    payload.maxNewTokens = 64
    payload.beams = 3
    let (text, decoded) = try Self.roundTrip(TrolAnswer.self, payload)
    #expect(
      text
        == #"{"image":"/d/a.jpg","question":"Why \"so\"?\n","id":"q-1","metadata":{"k":2,"tags":["x",null]},"max_new_tokens":64,"beams":3}"#
    )
    #expect(decoded == payload)
    let minimal = TrolAnswer.Payload(image: "/a.jpg", question: "q")
    #expect(try TrolAnswer.encode(minimal) == #"{"image":"/a.jpg","question":"q"}"#)
    let result = TrolAnswer.Result(
      answer: "a cat", model: "tiny", tokens: 7, finishReason: "eos", timings: Self.timings)
    #expect(try Self.resultRoundTrip(TrolAnswer.self, result) == result)
  }

  @Test func caption() throws {
    var payload = TrolCaption.Payload(image: "https://h/x.png", prompt: "Describe.")
    payload.id = "7"
    let (text, decoded) = try Self.roundTrip(TrolCaption.self, payload)
    #expect(text == #"{"image":"https://h/x.png","prompt":"Describe.","id":"7"}"#)
    #expect(decoded == payload)
    // A payload without a prompt decodes (the worker then uses its default prompt).
    #expect(try TrolCaption.decodePayload(Data(#"{"image":"/a.jpg"}"#.utf8)).prompt == nil)
    let result = TrolCaption.Result(
      caption: "a dog", prompt: "Describe.", model: "tiny", tokens: 3, finishReason: "length",
      timings: Self.timings)
    #expect(try Self.resultRoundTrip(TrolCaption.self, result) == result)
  }

  @Test func testKinds() throws {
    #expect(try Self.roundTrip(NoopContract.self, .init()) == ("{}", .init()))
    #expect(
      try Self.roundTrip(SleepContract.self, .init(ms: 250)) == (#"{"ms":250}"#, .init(ms: 250)))
    let fail = FailContract.Payload(permanent: true, message: "boom", succeedOnAttempt: 3)
    #expect(
      try Self.roundTrip(FailContract.self, fail)
        == (#"{"permanent":true,"message":"boom","succeedOnAttempt":3}"#, fail))
    #expect(try Self.roundTrip(CrashContract.self, .init(ms: 5)) == (#"{"ms":5}"#, .init(ms: 5)))
    #expect(try Self.roundTrip(CrashContract.self, .init()) == ("{}", .init()))
    #expect(try Self.resultRoundTrip(NoopContract.self, .init()) == .init())
    #expect(try Self.resultRoundTrip(SleepContract.self, .init(sleptMs: 20)) == .init(sleptMs: 20))
    #expect(try Self.resultRoundTrip(FailContract.self, .init(attempt: 2)) == .init(attempt: 2))
    #expect(try Self.resultRoundTrip(CrashContract.self, .init()) == .init())
  }

  /// Results keep the names the worker always wrote (exports and docs read them).
  @Test func resultKeys() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let sleep = String(
      decoding: try encoder.encode(SleepContract.Result(sleptMs: 20)), as: UTF8.self)
    #expect(sleep == #"{"sleptMs":20}"#)
    let answer = String(
      decoding: try encoder.encode(
        TrolAnswer.Result(
          answer: "a", model: "m", tokens: 1, finishReason: "eos", timings: Self.timings)),
      as: UTF8.self)
    #expect(answer.contains(#""finish_reason":"eos""#))
    #expect(answer.contains(#""image_preprocessing_s":0.5"#))
    #expect(answer.contains(#""decode_tokens_per_s":2"#))
  }

  @Test func everyKindNameIsListedOnceWithItsContract() {
    let contracts: [any JobContract.Type] = [
      TrolAnswer.self, TrolCaption.self, NoopContract.self, SleepContract.self, FailContract.self,
      CrashContract.self, CurateIngestContract.self, CurateDedupeContract.self,
      CurateShardContract.self, TrainShard.self, TrainMerge.self, TrainEval.self,
    ]
    #expect(Set(contracts.map { $0.kind }) == Set(JobKindName.allCases))
    #expect(
      JobKindName.allCases.filter(\.needsModel).map(\.rawValue) == ["trol.answer", "trol.caption"])
  }

  /// Each family lists its kinds in declaration order: what `trolley worker --kinds` offers.
  @Test func everyKindBelongsToOneFamily() {
    #expect(JobKindName.names(.trol) == ["trol.answer", "trol.caption"])
    #expect(JobKindName.names(.test) == ["noop", "sleep", "fail", "crash"])
    #expect(JobKindName.names(.curation) == ["curate.ingest", "curate.dedupe", "curate.shard"])
    #expect(JobKindName.names(.training) == ["train.shard", "train.merge", "train.eval"])
    #expect(JobKindName.allCases.filter(\.isTestKind) == [.noop, .sleep, .fail, .crash])
  }

  @Test func curationPayloadsUseSnakeCaseKeys() throws {
    let ingest = try CurateIngestContract.encode(.init(datasetID: 3, firstID: 10, lastID: 19))
    #expect(ingest == #"{"dataset_id":3,"first_id":10,"last_id":19}"#)
    let back = try CurateIngestContract.decodePayload(Data(ingest.utf8))
    #expect(back == .init(datasetID: 3, firstID: 10, lastID: 19))
    let dedupe = try CurateDedupeContract.encode(.init(datasetID: 3, hash: "phash", distance: 4))
    #expect(dedupe == #"{"dataset_id":3,"hash":"phash","distance":4}"#)
  }

  @Test func metadataFromAnotherDecoderComesBackAsAValue() throws {
    let text = #"{"image":"/a.jpg","question":"q","metadata":{"b":[1,2.5,true],"a":"x"}}"#
    let payload = try TrolAnswer.decodePayload(Data(text.utf8))
    #expect(
      payload.metadata
        == .object([
          .init("a", .string("x")),
          .init("b", .array([.number("1"), .number("2.5"), .bool(true)])),
        ]))
  }
}
