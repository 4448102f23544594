import Curation
import Digest
public import Foundation
import JobQueue
import Postgres
import TrolleyJobContracts

extension DatasetPlanner {
  /// What `caption` planned.
  public struct CaptionPlan: Sendable, Hashable, Codable {
    public var dataset: String
    /// trol.caption jobs added (kept items without a caption).
    public var captions: Int
    /// trol.answer jobs added (kept items × questions not yet answered).
    public var answers: Int
    /// Jobs not added because the same item's job was already queued.
    public var skipped: Int
  }

  /// Enqueues a trol.caption job for every kept item without a caption (when `captions`), and a
  /// trol.answer job for every kept item and question it has no answer for. Each payload names
  /// its `dataset_item`, where the worker writes the text. One transaction.
  /// - Throws: `DatasetError.invalidRequest` while ingest or dedupe jobs of the dataset are
  ///   still open (which items are kept is not known yet).
  public func caption(
    dataset name: String, captions: Bool, prompt: String?, questions: [String]
  ) async throws -> CaptionPlan {
    return try await withDataset(named: name) { dataset, connection in
      try store.requireSettled(dataset, then: "caption", on: connection)
      var rows: [JobInsertRow] = []
      var keys: [String] = []
      var counts = (captions: 0, answers: 0)
      func add(_ kind: String, _ payload: String, key: String) {
        rows.append(
          JobInsertRow(
            queue: queue, kind: kind, payload: PostgresJSONB(text: payload), uniqueKey: key))
        keys.append(key)
      }
      if captions {
        for item in try store.captionTargets(datasetID: dataset.id, on: connection) {
          var payload = TrolCaption.Payload(image: item.source, prompt: prompt)
          payload.datasetItem = item.id
          add(TrolCaption.name, try TrolCaption.encode(payload), key: "dataset-caption:\(item.id)")
          counts.captions += 1
        }
      }
      for question in questions {
        let digest = SHA256.hex(Array(question.utf8)).prefix(16)
        for item in try store.questionTargets(
          datasetID: dataset.id, question: question, on: connection)
        {
          var payload = TrolAnswer.Payload(image: item.source, question: question)
          payload.datasetItem = item.id
          add(
            TrolAnswer.name, try TrolAnswer.encode(payload),
            key: "dataset-answer:\(item.id):\(digest)")
          counts.answers += 1
        }
      }
      let result = try jobs.jobInsertMany(JobInsertManyParams(), rows: rows, on: connection)
      try store.jobsRecord(
        datasetID: dataset.id, stage: "caption", uniqueKeys: keys, on: connection)
      return CaptionPlan(
        dataset: name, captions: counts.captions, answers: counts.answers, skipped: result.skipped)
    }
  }
}
