import ArgumentParser
import Layers

/// The model of a benchmark's training step: a built-in name, a stem, an input shape.
struct BenchModelOptions: ParsableArguments {
    @Option(help: "A built-in model.") var model: String = "fashion-cnn"
    @Option(help: "Stem of resnet18 / resnet34 (imagenet | cifar).") var stem: String?
    @Option(name: .customLong("input"), help: ArgumentHelp("Input shape (default: 1x28x28 for fashion-cnn models, 3x32x32 otherwise).",
                                                          valueName: "CxHxW"))
    var inputShape: String?

    func validate() throws {
        _ = try spec()
        _ = try shape()
    }

    func spec() throws -> ModelSpec {
        let s = try stem.map { text -> ResNetStem in
            guard let v = ResNetStem(rawValue: text) else { throw ValidationError("--stem: '\(text)' is not imagenet or cifar") }
            return v
        }
        do { return try ModelSpec.named(model, stem: s) } catch { throw ValidationError("--model: \(error)") }
    }

    func shape() throws -> (Int, Int, Int) {
        guard let text = inputShape else { return model.hasPrefix("fashion") ? (1, 28, 28) : (3, 32, 32) }
        let parts = text.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw ValidationError("--input: '\(text)' is not CxHxW (for example 3x32x32)")
        }
        return (parts[0], parts[1], parts[2])
    }
}
