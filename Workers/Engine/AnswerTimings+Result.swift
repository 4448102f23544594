import TroL
import TrolleyJobContracts

extension AnswerTimings {
  /// The timings as a `trol.*` result carries them: the engine's own field names and values
  /// (`AnswerTimings.CodingKeys`), so the names are written in one place. Only a non-finite value
  /// (never produced) would fail to encode; the result then says null.
  var resultJSON: JobJSON { (try? JobJSONEncoder.tree(self)) ?? .null }
}
