import XCTest
import Foundation
import Imaging

/// torchvision 0.29's outputs (scripts/make-augment-fixtures.py) for a 3x4x6 float image of
/// k/255 values: each colour op, bilinear rotate/affine with fills, every TrivialAugmentWide op
/// through torchvision's own apply function, and the magnitude tables of TrivialAugmentWide and
/// RandAugment (224x160).
final class TorchvisionFixtureTests: XCTestCase {
    struct Entry: Decodable {
        let kind: String
        let offset: Int
        let count: Int
        let factor: Float?, shift: Float?, bits: Int?, threshold: Float?
        let x: Int?, y: Int?, w: Int?, h: Int?, value: [Float]?
        let degrees: Double?, angle: Double?, translate: [Double]?, scale: Double?, shear: [Double]?
        let op: String?, opIndex: Int?, bin: Int?, negative: Bool?, magnitude: Double?
    }
    struct SpaceEntry: Decodable { let op: String; let signed: Bool; let offset: Int? }
    struct Index: Decodable { let torchvision: String; let spaces: [String: [SpaceEntry]]; let entries: [Entry] }
    struct Fill: Decodable { let fill: FillValue? }
    enum FillValue: Decodable {
        case one(Float), many([Float])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Float.self) { self = .one(v) } else { self = .many(try c.decode([Float].self)) }
        }
        var values: [Float] { switch self { case .one(let v): return [v]; case .many(let v): return v } }
    }

    var index: Index!
    var fills: [Fill] = []
    var blob: [UInt8] = []

    override func setUpWithError() throws {
        let folder = testDirectory.appendingPathComponent("Fixtures")
        let json = try Data(contentsOf: folder.appendingPathComponent("torchvision-augment.json"))
        index = try JSONDecoder().decode(Index.self, from: json)
        struct Fills: Decodable { let entries: [Fill] }
        fills = try JSONDecoder().decode(Fills.self, from: json).entries
        blob = [UInt8](try Data(contentsOf: folder.appendingPathComponent("torchvision-augment.bin")))
    }

    func floats(at offset: Int, count: Int) -> [Float] {
        (0..<count).map { i in
            let b = offset + 4 * i
            return Float(bitPattern: UInt32(blob[b]) | UInt32(blob[b + 1]) << 8 | UInt32(blob[b + 2]) << 16 | UInt32(blob[b + 3]) << 24)
        }
    }

    /// The op named by `entry`, run on the fixture's input.
    func run(_ e: Entry, fill: [Float]?, shape: PlanarShape, input: [Float]) throws -> [Float] {
        var image = input
        var out = input
        try image.withUnsafeMutableBufferPointer { pb in
            let p = pb.baseAddress!
            switch e.kind {
            case "brightness": adjustBrightness(p, shape: shape, factor: e.factor!)
            case "saturation": try adjustSaturation(p, shape: shape, factor: e.factor!)
            case "contrast": try adjustContrast(p, shape: shape, factor: e.factor!)
            case "sharpness": adjustSharpness(p, shape: shape, factor: e.factor!)
            case "hue": try adjustHue(p, shape: shape, shift: e.shift!)
            case "grayscale": try rgbToGrayscale(p, shape: shape)
            case "posterize": try posterize(p, shape: shape, bits: e.bits!)
            case "solarize": solarize(p, shape: shape, threshold: e.threshold!)
            case "autocontrast": autocontrast(p, shape: shape)
            case "equalize": equalize(p, shape: shape)
            case "invert": invert(p, shape: shape)
            case "erase": try erase(p, shape: shape, x: e.x!, y: e.y!, width: e.w!, height: e.h!, value: e.value!)
            case "rotate-bilinear":
                try out.withUnsafeMutableBufferPointer { o in
                    try rotate(source: p, output: o.baseAddress!, shape: shape, degrees: e.degrees!, interpolation: .bilinear, fill: fill!)
                }
                p.update(from: out, count: out.count)
            case "affine-bilinear":
                let m = AffineMatrix.torchvision(angle: e.angle!, translate: (e.translate![0], e.translate![1]), scale: e.scale!,
                                                 shear: (e.shear![0], e.shear![1]))
                try out.withUnsafeMutableBufferPointer { o in
                    try affineWarp(source: p, output: o.baseAddress!, shape: shape, matrix: m, interpolation: .bilinear, fill: fill!)
                }
                p.update(from: out, count: out.count)
            case "trivial":
                let space = try AugmentSpace.trivialAugmentWide()
                XCTAssertEqual(space.ops[e.opIndex!].rawValue, e.op!, "op order")
                XCTAssertEqual(try space.magnitude(opIndex: e.opIndex!, bin: e.bin!, negative: e.negative!), e.magnitude!, "\(e.op!) magnitude")
                try space.apply(opIndex: e.opIndex!, bin: e.bin!, negative: e.negative!, to: p, shape: shape)
            default: XCTFail("unknown fixture kind \(e.kind)")
            }
        }
        return image
    }

    func testOperationsMatchTorchvision() throws {
        let input = try XCTUnwrap(index.entries.first { $0.kind == "input" })
        let shape = try PlanarShape(channels: 3, height: 4, width: 6)
        let source = floats(at: input.offset, count: input.count)
        var checked = 0
        for (e, f) in zip(index.entries, fills) where e.kind != "input" {
            let ours = try run(e, fill: f.fill?.values, shape: shape, input: source)
            let theirs = floats(at: e.offset, count: e.count)
            let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
            // Float rounding of differently ordered sums (gray weights, blur, blends): a few ulps
            // (measured 3e-7; 33 of the 48 outputs are bit-identical).
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(e.kind) \(e.op ?? "") bin \(e.bin ?? -1): worst \(worst)\nours   \(ours)\ntheirs \(theirs)")
            checked += 1
        }
        XCTAssertEqual(checked, 48)
    }

    func testMagnitudeTablesMatchTorchvision() throws {
        let spaces = ["trivial": try AugmentSpace.trivialAugmentWide(),
                      "rand-224x160": try AugmentSpace.randAugment(width: 224, height: 160)]
        for (name, space) in spaces {
            let theirs = try XCTUnwrap(index.spaces[name])
            XCTAssertEqual(space.ops.map(\.rawValue), theirs.map(\.op), name)
            for (i, t) in theirs.enumerated() {
                XCTAssertEqual(space.entries[i].signed, t.signed, "\(name) \(t.op)")
                if let offset = t.offset {
                    let want = floats(at: offset, count: 31).map(Double.init)
                    XCTAssertEqual(space.entries[i].magnitudes, want, "\(name) \(t.op) bins (torch's float32 linspace)")
                } else {
                    XCTAssertNil(space.entries[i].magnitudes, "\(name) \(t.op)")
                }
            }
        }
    }
}
