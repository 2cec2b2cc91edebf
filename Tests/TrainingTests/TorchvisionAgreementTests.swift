import Foundation
import Kernels
import Layers
import Optim
import Tensors
import XCTest

/// resnet18 against torchvision's, on weights and inputs both sides compute from the formulas
/// of scripts/make-torchvision-fixture.py (the fixture holds only torchvision's outputs): logits
/// in evaluation and training mode, the loss, gradients, running statistics and the weights
/// after one SGD step agree to 1e-4 relative. PyTorch is not needed to run this test.
final class TorchvisionAgreementTests: XCTestCase {
    struct Sample: Decodable { let index: [Int]; let value: [Double] }
    struct Case: Decodable {
        let stem: String, batch: Int, size: Int, classes: Int, input_name: String
        let eval_logits: [Double], train_logits: [Double], loss: Double
        let gradients: [String: Sample], running_statistics: [String: Sample], after_sgd_step: [String: Sample]
    }
    struct Fixture: Decodable { let torch: String; let torchvision: String; let cases: [Case] }

    static let fixturePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resnet18-torchvision.json").path

    func testResNet18AgreesWithTorchvision() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Self.fixturePath), "missing \(Self.fixturePath)")
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        XCTAssertEqual(fixture.cases.count, 2)
        for c in fixture.cases { try check(c) }
    }

    func check(_ c: Case) throws {
        let stem: ResNetStem = c.stem == "cifar" ? .cifar : .imagenet
        let net = try Network(spec: .resnet(depth: 18, stem: stem), inputShape: (3, c.size, c.size), classes: c.classes,
                              seed: 1, maxBatch: c.batch)
        Self.fill(net.parameters)
        Self.fill(net.buffers)
        let x = FloatBuffer(count: c.batch * 3 * c.size * c.size)
        for i in 0..<x.count { x[i] = Float(1.5 * Self.r(c.input_name, i)) }
        let labels = (0..<c.batch).map { Int32($0 % c.classes) }

        let evalLogits = Array(net.forward(x.pointer, batch: c.batch, training: false, step: 0))
        assertClose(evalLogits.map(Double.init), c.eval_logits, "\(c.stem) eval logits")
        let logits = net.forward(x.pointer, batch: c.batch, training: true, step: 0)
        assertClose(logits.map(Double.init), c.train_logits, "\(c.stem) train logits")
        let dLogits = FloatBuffer(count: c.batch * c.classes)
        let loss = labels.withUnsafeBufferPointer {
            softmaxCrossEntropy(dLogits: dLogits.pointer, logits: logits.baseAddress!, labels: $0.baseAddress!,
                                batch: c.batch, classes: c.classes)
        }
        assertClose([Double(loss)], [c.loss], "\(c.stem) loss")
        net.gradients.zero()
        net.backward(dLogits: dLogits.pointer, batch: c.batch, gradientReady: nil)
        for (name, sample) in c.gradients { assertSample(net.gradients, name, sample, "\(c.stem) gradient") }
        for (name, sample) in c.running_statistics { assertSample(net.buffers, name, sample, "\(c.stem) running statistic") }
        let sgd = Optimizer(config: OptimizerConfig(type: .sgd, momentum: 0.9, nesterov: false, weightDecay: 0),
                            layout: net.parameters.layout)
        sgd.step(parameters: net.parameters, gradients: net.gradients, lr: 0.1)
        for (name, sample) in c.after_sgd_step { assertSample(net.parameters, name, sample, "\(c.stem) after one SGD step") }
    }

    /// The fixture script's formulas, tensor by tensor.
    static func fill(_ arena: ParameterArena) {
        for slot in arena.layout.slots {
            let v = arena.view(slot)
            let isNorm = slot.name.hasPrefix("bn") || slot.name.contains(".bn") || slot.name.contains(".downsample.1.")
            for j in 0..<slot.count {
                let value: Double
                if slot.name.hasSuffix("num_batches_tracked") {
                    value = 0
                } else if slot.name.hasSuffix("running_mean") {
                    value = 0.05 * r(slot.name, j)
                } else if slot.name.hasSuffix("running_var") {
                    value = 1 + 0.2 * uniform(slot.name, j)
                } else if isNorm && slot.name.hasSuffix("weight") {
                    value = 1 + 0.1 * r(slot.name, j)
                } else if slot.name.hasSuffix("bias") {
                    value = 0.1 * r(slot.name, j)
                } else {
                    value = (2.0 / Double(slot.count / slot.shape[0])).squareRoot() * r(slot.name, j)
                }
                v[j] = Float(value)
            }
        }
    }

    static func fnv(_ name: String) -> UInt64 {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return UInt64(h)
    }

    /// splitmix64 of (j, name) in [0, 1), exactly as the script's numpy uint64 arithmetic.
    static func uniform(_ name: String, _ j: Int) -> Double {
        var z = UInt64(j) &* 0x9E37_79B9_7F4A_7C15 &+ fnv(name) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / 9_007_199_254_740_992
    }

    static func r(_ name: String, _ j: Int) -> Double { 3.0.squareRoot() * (2 * uniform(name, j) - 1) }

    func assertSample(_ arena: ParameterArena, _ name: String, _ s: Sample, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        guard let v = arena.view(named: name) else { return XCTFail("\(what): no tensor \(name)", file: file, line: line) }
        assertClose(s.index.map { Double(v[$0]) }, s.value, "\(what) \(name)", file: file, line: line)
    }

    /// Relative to the largest magnitude of the expected values (small entries of a tensor are
    /// compared at its scale, as torch.allclose's atol would).
    func assertClose(_ got: [Double], _ want: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        let scale = max(want.map(abs).max() ?? 1, 1e-6)
        let worst = zip(got, want).map { abs($0 - $1) / scale }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(what): worst relative difference \(worst)", file: file, line: line)
    }
}
