import ArgumentParser
import Foundation
import Kernels
import Layers
import Optim
import Tensors

/// `ringtrain bench train`: one worker's whole training step on synthetic data — forward,
/// loss, backward and the SGD update — in images/s, for a built-in model at a batch size and
/// thread count. What a worker of `train` or `launch` computes per step, without data
/// loading or all-reduce (those are `bench allreduce` and the run's own metrics).
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Benchmark: one worker's training step (forward, backward, SGD update) on synthetic data.")

    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var modelOptions: BenchModelOptions
    @Option(help: "Classes of the output layer.") var classes: Int = 10
    @Option(help: "Kernel threads.") var threads: Int = 1
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Timed steps (the median is reported), after one untimed.") var steps: Int = 7

    func validate() throws {
        guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads must be in 1...1024") }
        guard batch >= 1, batch <= 65536 else { throw ValidationError("--batch must be in 1...65536") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard classes >= 2, classes <= 100_000 else { throw ValidationError("--classes must be in 2...100000") }
    }

    func run() throws {
        KernelThreads.count = threads
        let model = modelOptions.model
        let (c, h, w) = try modelOptions.shape()
        let net = try Network(spec: modelOptions.spec(), inputShape: (c, h, w), classes: classes, seed: 1, maxBatch: batch)
        let optimizer = Optimizer(config: OptimizerConfig(type: .sgd, momentum: 0.9, nesterov: true), layout: net.parameters.layout)
        let images = filled(batch * c * h * w, 10)
        let labels = (0..<batch).map { Int32($0 % classes) }
        let dLogits = FloatBuffer(count: batch * classes)
        var step = 0
        var forwardBackward: [Double] = [], update: [Double] = []
        func trainStep(timed: Bool) {
            step += 1
            let t0 = now()
            net.gradients.zero()
            let logits = net.forward(images.pointer, batch: batch, training: true, step: step)
            labels.withUnsafeBufferPointer { l in
                _ = softmaxCrossEntropy(dLogits: dLogits.pointer, logits: logits.baseAddress!, labels: l.baseAddress!,
                                        batch: batch, classes: classes)
            }
            net.backward(dLogits: dLogits.pointer, batch: batch, gradientReady: nil)
            let t1 = now()
            optimizer.step(parameters: net.parameters, gradients: net.gradients, lr: 1e-4)
            if timed { forwardBackward.append(t1 - t0); update.append(now() - t1) }
        }
        trainStep(timed: false)
        for _ in 0..<steps { trainStep(timed: true) }
        let totals = zip(forwardBackward, update).map { $0 + $1 }.sorted()
        let stepSeconds = totals[totals.count / 2]
        let fb = forwardBackward.sorted()[forwardBackward.count / 2], up = update.sorted()[update.count / 2]
        if json {
            print(String(format: "{\"model\": \"%@\", \"input\": \"%dx%dx%d\", \"batch\": %d, \"threads\": %d, \"parameters\": %d, ",
                         model, c, h, w, batch, threads, net.parameterCount)
                  + String(format: "\"step_ms\": %.3f, \"forward_backward_ms\": %.3f, \"update_ms\": %.3f, \"images_per_sec\": %.2f}",
                           stepSeconds * 1e3, fb * 1e3, up * 1e3, Double(batch) / stepSeconds))
        } else {
            print("\(model) (\(c)x\(h)x\(w), \(net.parameterCount) parameters), batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"), median of \(steps) steps:")
            print(String(format: "  step %.2f ms (forward+backward %.2f, SGD update %.2f): %.1f images/s",
                         stepSeconds * 1e3, fb * 1e3, up * 1e3, Double(batch) / stepSeconds))
        }
    }
}
