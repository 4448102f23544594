/// Turns RGB8 pixels into the float32 CHW values a vision encoder takes, with each family's exact
/// float32 operation order (both verified bit for bit against the fixtures).
public struct PixelNormalization: Sendable, Hashable {
  /// How a byte becomes a float before the mean is subtracted.
  public enum Scaling: Sendable, Hashable {
    /// `(p − 255·mean) / (255·std)`, with 255·mean and 255·std rounded to float32 first
    /// (TroL-1.8B/7B's `image_processor`).
    case byteRange
    /// `(p / 255 − mean) / std` (torchvision `ToTensor` then `Normalize`, TroL-3.8B).
    case unitRange
  }

  /// Per-channel mean (R, G, B), in the 0...1 range.
  public let mean: [Double]
  /// Per-channel standard deviation (R, G, B), in the 0...1 range.
  public let std: [Double]
  /// Where the scaling to 0...1 happens.
  public let scaling: Scaling

  // Float32 constants, rounded from double as torch.tensor([...]) rounds Python floats.
  private let shift: SIMD3<Float>
  private let divisor: SIMD3<Float>

  /// - Parameters:
  ///   - mean: Three channel means.
  ///   - std: Three positive channel standard deviations.
  ///   - scaling: Where the 1/255 scaling happens.
  public init(mean: [Double], std: [Double], scaling: Scaling) {
    precondition(mean.count == 3 && std.count == 3, "mean and std need 3 channels")
    precondition(std.allSatisfy { $0 > 0 }, "std must be positive")
    self.mean = mean
    self.std = std
    self.scaling = scaling
    let mean32 = SIMD3<Float>(Float(mean[0]), Float(mean[1]), Float(mean[2]))
    let std32 = SIMD3<Float>(Float(std[0]), Float(std[1]), Float(std[2]))
    switch scaling {
    case .byteRange:
      shift = Float(255) * mean32
      divisor = Float(255) * std32
    case .unitRange:
      shift = mean32
      divisor = std32
    }
  }

  /// CLIP's constants with the byte-range form, as TroL-1.8B/7B normalize.
  public static let clip = PixelNormalization(
    mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
    scaling: .byteRange)

  /// ImageNet's constants after ToTensor, as TroL-3.8B (InternViT) normalizes.
  public static let imageNet = PixelNormalization(
    mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scaling: .unitRange)

  /// Writes the image as float32 CHW into `destination`.
  ///
  /// - Parameters:
  ///   - image: The pixels.
  ///   - destination: At least `3 * image.width * image.height` floats: plane R, then G, then B.
  public func normalize(_ image: RGBImage, into destination: UnsafeMutableBufferPointer<Float>) {
    let plane = image.width * image.height
    precondition(destination.count >= plane * 3, "normalize needs \(plane * 3) floats")
    image.pixels.withUnsafeBufferPointer { pixels in
      for i in 0..<plane {
        var value = SIMD3<Float>(
          Float(pixels[i * 3]), Float(pixels[i * 3 + 1]), Float(pixels[i * 3 + 2]))
        if scaling == .unitRange { value = value / Float(255) }
        value = (value - shift) / divisor
        destination[i] = value.x
        destination[plane + i] = value.y
        destination[2 * plane + i] = value.z
      }
    }
  }

  /// The image as float32 CHW.
  public func normalize(_ image: RGBImage) -> [Float] {
    let total = image.width * image.height * 3
    return [Float](unsafeUninitializedCapacity: total) { buffer, count in
      normalize(image, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<total]))
      count = total
    }
  }
}
