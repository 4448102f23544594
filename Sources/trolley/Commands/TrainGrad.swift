import ArgumentParser
import Foundation
import Tensor
import Training

/// `trolley train grad`: loss, gradients and one AdamW step for one sample, with the goldens' names.
struct TrainGrad: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grad",
    abstract:
      "Compute the loss, every gradient and one AdamW step for one image, question and answer.",
    discussion: """
      Writes grad/<param>, after/<param>, grad/lora/<module>.A|B and grad/vision_features to --out \
      (f32 safetensors; the names of the goldens in Tests/Fixtures/trol-tiny/*/expected/train.safetensors \
      without their step prefix) and prints {"loss": …, "loss_after_step": …}. The defaults are the \
      goldens' torch AdamW settings (lr 1e-3, weight decay 0.01, betas 0.9/0.999, eps 1e-8).

      Example:
        trolley train grad --model Tests/Fixtures/trol-tiny/internlm2/model --image cat.png \\
          --question 'What is it?' --answer 'A cat.' --trainable step1 --out /tmp/grads.safetensors
      """)

  @Option(help: "The model folder (config.json, model.safetensors, trol_gating.pt, tokenizer).")
  var model: String

  @Option(help: "A JPEG or PNG image; omit for a text-only sample.")
  var image: String?

  @Option(help: "The question.")
  var question: String

  @Option(help: "The answer the model is trained to give (the end-of-turn suffix is added).")
  var answer: String

  @Option(
    help:
      "step1 (projector + gate), step2 (step1 + LoRA on every decoder linear) or all (every tensor, vision tower included; PLoRA stays frozen)."
  )
  var trainable: String

  @Flag(
    help:
      "Without TroL's traversal: each layer once and no gate (the paper's ablation; the gate is then not a parameter)."
  )
  var noTraversal = false

  @Option(help: "LoRA rank (step2).")
  var loraRank: Int = 4

  @Option(help: "LoRA alpha (step2); the scale is alpha/rank.")
  var loraAlpha: Double = 8

  @Option(
    help: "A safetensors file with LoRA initial values <module>.A [r, in] and <module>.B [out, r].")
  var loraInit: String?

  @Option(help: "AdamW learning rate.")
  var lr: Double = 1e-3

  @Option(help: "AdamW decoupled weight decay.")
  var weightDecay: Double = 0.01

  @Option(help: "Frozen weights in memory: f32 (exact, default), f16, q8 or q4.")
  var weights: String = "f32"

  @Option(help: "Where to write the gradients and updated parameters (safetensors).")
  var out: String

  @Flag(help: "Print one JSON object (loss, loss_after_step, tokens).")
  var json = false

  func validate() throws {
    guard TrainableSet(rawValue: trainable) != nil else {
      throw ValidationError(
        "--trainable must be one of \(TrainableSet.spelled), got '\(trainable)'")
    }
    guard WeightFormat(rawValue: weights) != nil else {
      throw ValidationError("--weights must be f32, f16, q8 or q4")
    }
    guard loraRank >= 1 else { throw ValidationError("--lora-rank must be at least 1") }
    guard lr > 0 else { throw ValidationError("--lr must be positive") }
    guard !answer.isEmpty else { throw ValidationError("--answer must not be empty") }
  }

  func run() throws {
    let result = try GradientCheck.run(
      model: model, imagePath: image, question: question, answer: answer,
      options: .init(
        trainable: TrainableSet(rawValue: trainable)!, loraRank: loraRank, loraAlpha: loraAlpha,
        loraInitPath: loraInit, learningRate: lr, weightDecay: weightDecay,
        format: WeightFormat(rawValue: weights)!, traversal: !noTraversal),
      out: out)
    if json {
      print(
        "{\"loss\": \(result.loss), \"loss_after_step\": \(result.lossAfterStep), \"tokens\": \(result.tokens)}"
      )
    } else {
      print(
        String(
          format: "loss %.8f · after one AdamW step %.8f · %d answer tokens · written to %@",
          result.loss, result.lossAfterStep, result.tokens, out))
    }
  }
}
