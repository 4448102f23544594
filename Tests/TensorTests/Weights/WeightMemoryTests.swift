import Testing

@testable import Tensor

@Suite struct WeightMemoryTests {
  /// Small buffers come from the allocator; large ones are whole, 2 MiB aligned huge-page spans.
  /// Every byte asked for is writable and reads back, and release takes either kind.
  @Test(arguments: [1, 4_096, (8 << 20) - 1, 8 << 20, (8 << 20) + 1, 37 << 20])
  func buffersAreWritableAlignedAndReleasable(byteCount: Int) {
    let buffer = WeightMemory.allocate(byteCount: byteCount)
    defer { WeightMemory.release(buffer) }
    #expect(buffer.count >= byteCount)
    let base = UInt(bitPattern: buffer.baseAddress)
    #expect(base % 64 == 0)
    if byteCount >= WeightMemory.hugePageMinimum {
      #expect(base % UInt(WeightMemory.hugePageBytes) == 0)
      #expect(buffer.count % WeightMemory.hugePageBytes == 0)
    }
    let bytes = buffer.bindMemory(to: UInt8.self)
    for index in stride(from: 0, to: byteCount, by: 4_093) { bytes[index] = UInt8(index % 251) }
    bytes[byteCount - 1] = 7
    for index in stride(from: 0, to: byteCount - 1, by: 4_093) {
      #expect(bytes[index] == UInt8(index % 251))
    }
    #expect(bytes[byteCount - 1] == 7)
  }
}
