import Checkpoints
import Foundation
import Layers
import Training
import XCTest

/// `init_from` with a file written by PyTorch rather than by RingTrain: no RingTrain
/// metadata, DDP's `module.` prefix, an F16 tensor, a tensor of another shape; and
/// `init_exclude`, which keeps a head freshly initialised though the file has it.
final class InitFromTests: TrainingTestCase {
    /// A safetensors file as `safetensors.torch.save_file` writes it: a JSON header of
    /// (dtype, shape, data_offsets) and the raw little-endian data, nothing else.
    func writeForeign(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])], to path: String) throws {
        var offset = 0, entries: [String] = [], data: [UInt8] = []
        for t in tensors {
            entries.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
            data += t.bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        try Data(out + header + data).write(to: URL(fileURLWithPath: path))
    }

    func f32(_ v: [Float]) -> [UInt8] { v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } } }
    func f16(_ v: [Float]) -> [UInt8] { v.flatMap { f in withUnsafeBytes(of: Float16(f).bitPattern.littleEndian) { Array($0) } } }

    func testAForeignFileIsMatchedByNameAndShapeAndInitExcludeKeepsTheHeadFresh() throws {
        let config = TrainingFixtures.config(data: data)
        let fresh = try Trainer(config: config, options: .init(runDirectory: runDir()))
        let slots = fresh.network.parameters.layout.slots
        let conv = try XCTUnwrap(slots.first { $0.name == "0.weight" })
        let convBias = try XCTUnwrap(slots.first { $0.name == "0.bias" })
        let head = try XCTUnwrap(slots.first { $0.name == "5.weight" })
        let headBias = try XCTUnwrap(slots.first { $0.name == "5.bias" })
        let convValues = (0..<conv.count).map { Float($0 % 7) * 0.125 - 0.25 }      // exact in F16
        let biasValues = (0..<convBias.count).map { Float($0) * 0.5 }
        let path = runDir() + ".safetensors"
        cleanup.append(path)
        try writeForeign([
            ("module.0.weight", "F16", conv.shape, f16(convValues)),
            ("module.0.bias", "F32", convBias.shape, f32(biasValues)),
            ("module.5.weight", "F32", head.shape, f32([Float](repeating: 9, count: head.count))),
            ("module.5.bias", "F32", [headBias.count + 1], f32([Float](repeating: 9, count: headBias.count + 1))),
            ("module.extra.weight", "F32", [2], f32([1, 2])),
        ], to: path)

        var withHead = config
        withHead.initFrom = path
        var messages: [String] = []
        var options = Trainer.Options(runDirectory: runDir())
        options.progress = ProgressLine(interval: 1, sink: { text, _ in messages.append(text) })
        let a = try Trainer(config: withHead, options: options)
        XCTAssertEqual(Array(a.network.parameters.view(named: "0.weight")!), convValues, "F16 converted, module. stripped")
        XCTAssertEqual(Array(a.network.parameters.view(named: "0.bias")!), biasValues)
        XCTAssertEqual(Array(a.network.parameters.view(named: "5.weight")!), [Float](repeating: 9, count: head.count))
        XCTAssertEqual(Array(a.network.parameters.view(named: "5.bias")!), Array(fresh.network.parameters.view(named: "5.bias")!),
                       "another shape: the fresh initialisation stays")
        let log = messages.joined(separator: "\n")
        XCTAssertTrue(log.contains("copied 3 tensors"), log)
        XCTAssertTrue(log.contains("kept fresh initialisation (other shape) for 5.bias [\(headBias.count)] (file [\(headBias.count + 1)])"), log)
        XCTAssertTrue(log.contains("file tensors this model has no place for: extra.weight"), log)

        var excluding = withHead
        excluding.initExclude = ["5"]
        messages = []
        let b = try Trainer(config: excluding, options: options)
        XCTAssertEqual(Array(b.network.parameters.view(named: "0.weight")!), convValues)
        XCTAssertEqual(Array(b.network.parameters.view(named: "5.weight")!), Array(fresh.network.parameters.view(named: "5.weight")!),
                       "init_exclude keeps the head fresh")
        XCTAssertTrue(messages.joined().contains("kept fresh initialisation (init_exclude) for 5.weight"), messages.joined())

        var typo = withHead
        typo.initExclude = ["head"]
        XCTAssertThrowsError(try Trainer(config: typo, options: .init(runDirectory: runDir()))) {
            XCTAssertTrue("\($0)".contains("init_exclude") && "\($0)".contains("'head' matches no parameter"), "\($0)")
        }
        var alone = config
        alone.initExclude = ["5"]
        XCTAssertThrowsError(try Trainer(config: alone, options: .init(runDirectory: runDir())))
    }
}
