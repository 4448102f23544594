import Foundation
import Testing
import TroL
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#endif

/// Throughput of checkpoint I/O: streaming a 1 GiB BF16 file out, validating a 7B-sized header,
/// widening to f32, reading the gate. Opt-in because it measures rather than checks:
/// `TROLLEY_CHECKPOINT_BENCH=1 swift test --filter CheckpointBenchmark`.
/// Figures go to docs/benchmarks.md ("Checkpoints").
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TROLLEY_CHECKPOINT_BENCH"] == "1"))
struct CheckpointBenchmark {
  /// CPU time of the calling thread in milliseconds (the machine is shared; wall time is not ours).
  static func cpuMilliseconds() -> Double { CPUClock.thread() * 1e3 }

  static func measure(_ label: String, bytes: Int? = nil, _ body: () throws -> Void) rethrows {
    let wall = Date()
    let start = cpuMilliseconds()
    try body()
    let cpu = cpuMilliseconds() - start
    let seconds = Date().timeIntervalSince(wall)
    let rate = bytes.map { String(format: ", %.2f GB/s of CPU", Double($0) / (cpu * 1e6)) } ?? ""
    print(String(format: "BENCH %@: %.1f ms CPU, %.2f s wall%@", label, cpu, seconds, rate))
  }

  @Test func checkpointIO() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/big.safetensors"
    let rows = 8192
    let columns = 4096
    let tensors = 16
    let chunk = (0..<(columns * 256)).map { Float($0 % 977) * 0.001 - 0.4 }
    try Self.measure(
      "write 1 GiB BF16 (16 × [8192, 4096], 4 MiB chunks of f32)",
      bytes: tensors * rows * columns * 2
    ) {
      let writer = try SafeTensorsWriter(
        path: path,
        tensors: (0..<tensors).map { .init(name: "t\($0)", dtype: .bf16, shape: [rows, columns]) })
      for _ in 0..<(tensors * rows / 256) { try writer.append(floats: chunk) }
      try writer.finish()
    }
    var file: SafeTensorsFile?
    try Self.measure("open + validate the 1 GiB file") { file = try SafeTensorsFile(path: path) }
    try Self.measure("floats() of one [8192, 4096] BF16 tensor", bytes: rows * columns * 2) {
      _ = try file?.floats("t3")
    }

    // A header shaped like TroL-7B's (≈ 1,000 keys with the real names' lengths).
    let headerPath = folder + "/header.safetensors"
    let specs = (0..<1000).map {
      SafeTensorsWriter.TensorSpec(
        name: "model.layers.\($0 / 31).feed_forward.w\($0 % 31).lora_B.weight", dtype: .f16,
        shape: [4, 4])
    }
    let writer = try SafeTensorsWriter(path: headerPath, tensors: specs)
    for _ in specs { try writer.append(floats: [Float](repeating: 1, count: 16)) }
    try writer.finish()
    try Self.measure("open + validate a 1,000-tensor header (×20)") {
      for _ in 0..<20 { _ = try SafeTensorsFile(path: headerPath) }
    }
    try Self.measure("TroLGate.load of the InternLM2 fixture (×100)") {
      for _ in 0..<100 {
        _ = try TroLGate.load(path: CheckpointFixtures.model("internlm2") + "/trol_gating.pt")
      }
    }
    try Self.measure("ModelInspection of the InternLM2 fixture (×20)") {
      for _ in 0..<20 {
        _ = try ModelInspection(ModelDirectory(path: CheckpointFixtures.model("internlm2")))
      }
    }
  }
}
