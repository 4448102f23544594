import Testing
import TroL
import TrolleyBasics

/// Issue 13, item 9: a job may point the worker at a file that is not an image (a key, a
/// password file); the error must not carry any of its bytes into the job's last error.
struct ImageDecoderEchoTests {
  @Test func aNonImageIsRefusedWithoutEchoingItsBytes() {
    let secret = Array("root:x:0:0:secret-token".utf8)
    do {
      _ = try ImageDecoder().decode(secret)
      Issue.record("text decoded as an image")
    } catch let error as TroLError {
      #expect(error.code == .invalidImage)
      #expect(!error.message.contains("72 6F 6F 74") && !error.message.contains("root"))
      #expect(error.message.contains("not an image"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
