/// Receives named intermediates during a forward pass, so tests can compare them with the reference
/// by (name, layer). Nil in production: tracing then costs one branch per call site.
///
/// Names used: `vision` (encoder output), `projector`, `embeddings`, and per layer `a` (pass-1
/// output), `b` (pass-2 output), `w` (gate), `h` (mixed output); `logits` for the last positions.
public typealias Tracer = (_ name: String, _ layer: Int?, _ values: UnsafeBufferPointer<Float>) ->
  Void
