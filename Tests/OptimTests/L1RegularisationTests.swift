import Optim
import Tensors
import XCTest

/// `l1`: λ·sign(w) joins the gradient of the decayed roles, before clipping and the update.
final class L1RegularisationTests: XCTestCase {
    private func arenas(weights: Int = 2) -> (ParameterArena, ParameterArena) {
        var layout = ArenaLayout()
        layout.append(name: "fc.weight", shape: [weights], role: .weight)
        layout.append(name: "fc.bias", shape: [1], role: .bias)
        layout.append(name: "head.weight", shape: [1], role: .weight)
        let p = ParameterArena(layout: layout)
        return (p, p.makeTwin())
    }

    func testSubgradientHandComputed() {
        // p = [0.5, -2, 0] -> sign [1, -1, 0]; g' = g + 0.01·sign = [0.11, 0.19, 0.3];
        // p' = p - 0.1·g' = [0.489, -2.019, -0.03]. The bias is not a decayed role: plain SGD.
        // head.weight = 4 -> g' = 0 + 0.01, p' = 4 - 0.001. Penalty 0.01·(0.5 + 2 + 0 + 4) = 0.065.
        let (p, g) = arenas(weights: 3)
        _ = p.view(named: "fc.weight")!.update(from: [0.5, -2, 0])
        _ = g.view(named: "fc.weight")!.update(from: [0.1, 0.2, 0.3])
        p.view(named: "fc.bias")![0] = 3; g.view(named: "fc.bias")![0] = -1
        p.view(named: "head.weight")![0] = 4
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)), l1: 0.01)
        let report = opt.step(parameters: p, gradients: g, lr: 0.1)
        let w = Array(p.view(named: "fc.weight")!)
        XCTAssertEqual(w[0], 0.489, accuracy: 1e-6)
        XCTAssertEqual(w[1], -2.019, accuracy: 1e-6)
        XCTAssertEqual(w[2], -0.03, accuracy: 1e-7, "sign(0) = 0: a zero weight gets no L1 push")
        XCTAssertEqual(p.view(named: "fc.bias")![0], 3.1, accuracy: 1e-6)
        XCTAssertEqual(p.view(named: "head.weight")![0], 3.999, accuracy: 1e-6)
        XCTAssertEqual(report.l1Penalty, 0.065, accuracy: 1e-7)
        XCTAssertEqual(Array(g.view(named: "fc.weight")!)[1], 0.19, accuracy: 1e-7, "the subgradient is added to the gradients in place")
    }

    func testPerGroupMultipliersAndDecayedRoles() {
        let (p, g) = arenas()
        _ = p.view(named: "fc.weight")!.update(from: [1, -1])
        p.view(named: "fc.bias")![0] = 1
        p.view(named: "head.weight")![0] = 1
        let groups = ParameterGroups(decayRoles: [.weight, .bias], l1Multipliers: ["head": 0, "fc.weight": 2])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)), groups: groups, l1: 0.1)
        XCTAssertEqual(opt.l1Penalty(p), 0.1 * 2 * 2 + 0.1 * 1, accuracy: 1e-7)
        opt.step(parameters: p, gradients: g, lr: 1)
        XCTAssertEqual(Array(p.view(named: "fc.weight")!), [0.8, -0.8])
        XCTAssertEqual(p.view(named: "fc.bias")![0], 0.9, accuracy: 1e-7, "decay_roles includes the bias here, so L1 does too")
        XCTAssertEqual(p.view(named: "head.weight")![0], 1, "multiplier 0: no L1")
    }

    /// L1 enters before clipping (it is part of the gradient of the loss), and a frozen slot
    /// gets none.
    func testL1IsClippedWithTheGradientAndSkipsFrozenSlots() {
        let (p, g) = arenas()
        _ = p.view(named: "fc.weight")!.update(from: [1, 1])
        p.view(named: "head.weight")![0] = 1
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)),
                            groups: ParameterGroups(frozenPrefixes: ["head"]), clipGradNorm: 0.5, l1: 3)
        let report = opt.step(parameters: p, gradients: g, lr: 1)
        XCTAssertEqual(report.gradientNorm!, Float(sqrt(18.0)), accuracy: 1e-5, "the norm is of [3, 3]")
        XCTAssertEqual(p.view(named: "head.weight")![0], 1, "frozen")
        XCTAssertEqual(p.view(named: "fc.weight")![0], 1 - 0.5 / Float(2.0.squareRoot()), accuracy: 1e-5)
    }

    /// The SIMD body and the scalar tail agree with a plain loop on every element.
    func testVectorBodyMatchesPlainLoop() {
        let n = 53
        let (p, g) = arenas(weights: n)
        let w = p.view(named: "fc.weight")!, gw = g.view(named: "fc.weight")!
        for i in 0..<n {
            w[i] = i % 5 == 0 ? 0 : Float(i % 7) - 3.25
            gw[i] = Float(i) * 0.01
        }
        let before = Array(w), gradients = Array(gw)
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)), l1: 0.125)
        let penalty = opt.addL1Subgradient(parameters: p, gradients: g)
        var expected = 0.0
        for i in 0..<n {
            let sign: Float = before[i] > 0 ? 1 : before[i] < 0 ? -1 : 0
            XCTAssertEqual(gw[i], gradients[i] + 0.125 * sign, "element \(i)")
            expected += 0.125 * Double(abs(before[i]))
        }
        XCTAssertEqual(penalty, expected, accuracy: 1e-9)
    }

    func testConfigKeys() throws {
        let c = try JSONDecoder().decode(OptimizerConfig.self, from: Data(#"{"l1": 0.001, "l1_multipliers": {"fc": 0}}"#.utf8))
        XCTAssertEqual(c.l1, 0.001)
        XCTAssertEqual(c.groups.l1Multipliers, ["fc": 0])
        XCTAssertThrowsError(try JSONDecoder().decode(OptimizerConfig.self, from: Data(#"{"l1": -1}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("optimizer.l1"), "\($0)")
        }
    }
}
