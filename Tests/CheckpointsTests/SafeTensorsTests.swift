import Checkpoints
import Foundation
import XCTest

/// A small file: two tensors and a state string.
func sampleTensors() -> [SafeTensor] {
    [SafeTensor(name: "fc.weight", shape: [2, 3], values: [1, -2, 3.5, .infinity, -0.0, 1e-30]),
     SafeTensor(name: "conv1.bias", shape: [4], values: [0.25, 0.5, 0.75, 1]),
     SafeTensor(name: "optimizer.fc.weight.momentum_buffer", shape: [2, 3], values: [0, 0, 0, 0, 0, 7]),
     SafeTensor(name: "empty", shape: [0, 3], values: [])]
}

/// A file written by hand: `header` JSON (padded to 8 bytes) then `data`.
func handmade(_ header: String, _ data: [UInt8]) -> [UInt8] {
    var h = Array(header.utf8)
    h += repeatElement(UInt8(ascii: " "), count: (8 - h.count % 8) % 8)
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
    return out + h + data
}

final class SafeTensorsTests: XCTestCase {
    func testRoundTripAndLayout() throws {
        let state = #"{"format_version":1,"global_step":1200,"note":"quote \" backslash \\ newline \n tab \t ünïcode"}"#
        let bytes = try SafeTensorsFile.encode(tensors: sampleTensors(), metadata: ["ringtrain.state": state, "optimizer.step": "1200"])
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes[8], UInt8(ascii: "{"))
        XCTAssertEqual(bytes.count, 8 + n + (6 + 4 + 6) * 4)

        let file = try SafeTensorsFile.parse(bytes: bytes)
        XCTAssertEqual(file.state, state)
        XCTAssertEqual(file.metadata["optimizer.step"], "1200")
        XCTAssertEqual(file.metadata[SafeTensorsFile.dataChecksumKey]?.count, 64)
        XCTAssertEqual(file.tensors.map(\.name), ["conv1.bias", "empty", "fc.weight", "optimizer.fc.weight.momentum_buffer"])
        for t in sampleTensors() {
            let back = try XCTUnwrap(file.tensor(named: t.name))
            XCTAssertEqual(back.shape, t.shape)
            XCTAssertEqual(back.values.map(\.bitPattern), t.values.map(\.bitPattern), t.name)
        }
        XCTAssertEqual(file.lookup("conv1.bias")?.shape, [4])

        // The header is plain JSON with the safetensors fields.
        let json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let entry = json["fc.weight"] as! [String: Any]
        XCTAssertEqual(entry["dtype"] as? String, "F32")
        XCTAssertEqual(entry["shape"] as? [Int], [2, 3])
        XCTAssertEqual(entry["data_offsets"] as? [Int], [16, 40])    // after conv1.bias (16 bytes) and empty (0)
    }

    func testEncodeRejectsBadInput() {
        XCTAssertThrowsError(try SafeTensorsFile.encode(tensors: [SafeTensor(name: "a", shape: [2], values: [1])], metadata: [:])) {
            XCTAssertTrue("\($0)".contains("tensor a"), "\($0)")
        }
        let dup = [SafeTensor(name: "a", shape: [1], values: [1]), SafeTensor(name: "a", shape: [1], values: [2])]
        XCTAssertThrowsError(try SafeTensorsFile.encode(tensors: dup, metadata: [:]))
        XCTAssertThrowsError(try SafeTensorsFile.encode(tensors: [], metadata: [SafeTensorsFile.dataChecksumKey: "x"]))
    }

    func testTruncationAtEveryOffsetIsDetected() throws {
        let bytes = try SafeTensorsFile.encode(tensors: sampleTensors(), metadata: ["ringtrain.state": "{}"])
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: Array(bytes[0..<cut]), path: "cut-\(cut)"), "cut at \(cut)") {
                XCTAssertTrue("\($0)".hasPrefix("cut-\(cut): "), "\($0)")
            }
        }
        // Trailing garbage too.
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: bytes + [0, 0, 0, 0]))
    }

    /// A file cut inside its second tensor names that tensor, the first in file order that
    /// runs past the end, every time (not whichever the header dictionary yields first).
    func testATruncatedFileNamesTheFirstTensorPastTheEnd() throws {
        let tensors = (0..<12).map { SafeTensor(name: String(format: "layer%02d.weight", $0), shape: [8], values: [Float](repeating: 1, count: 8)) }
        let bytes = try SafeTensorsFile.encode(tensors: tensors, metadata: [:])
        let cut = Array(bytes[0..<(bytes.count - 11 * 32 + 5)])
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: cut, path: "cut")) {
            XCTAssertTrue("\($0)".contains("tensor layer01.weight"), "\($0)")
        }
    }

    func testFlippedByteAnywhereIsDetected() throws {
        let bytes = try SafeTensorsFile.encode(tensors: sampleTensors(), metadata: ["ringtrain.state": #"{"step":5}"#])
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for i in 0..<bytes.count {
            for mask: UInt8 in [0x01, 0x80] {
                var bad = bytes
                bad[i] ^= mask
                XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: bad), "byte \(i) ^ \(mask)") { error in
                    guard i >= 8 + n else { return }
                    XCTAssertTrue("\(error)".contains("data section: SHA-256 mismatch"), "\(error)")
                }
                if i >= 8 + n {   // a damaged file can still be inspected
                    XCTAssertEqual(try SafeTensorsFile.parse(bytes: bad, integrity: .skip).tensors.count, 4)
                }
            }
        }
    }

    func testForeignFilesWithoutChecksums() throws {
        // As the Python safetensors package writes it: no RingTrain metadata.
        let data: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]      // 1.0, 2.0
        let bytes = handmade(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data)
        let file = try SafeTensorsFile.parse(bytes: bytes, integrity: .ifPresent)
        XCTAssertEqual(file.tensor(named: "w")?.values, [1, 2])
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: bytes, integrity: .required)) {
            XCTAssertEqual(($0 as? CheckpointError)?.kind, .integrity)
        }
    }

    func testHeaderValidationNamesTheTensorOrField() {
        func message(_ header: String, _ data: [UInt8] = Array(repeating: 0, count: 8)) -> String {
            do { _ = try SafeTensorsFile.parse(bytes: handmade(header, data), path: "f.safetensors", integrity: .ifPresent); return "no error" }
            catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#).contains("f.safetensors: tensor w: dtype F16"))
        XCTAssertTrue(message(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#).contains("tensor w: data_offsets [0, 8) span 8 bytes, but F32 [3] needs 12"))
        XCTAssertTrue(message(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#).contains("tensor w: data_offsets [0, 16) run past"))
        XCTAssertTrue(message(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#).contains("overlap"))
        XCTAssertTrue(message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#).contains("tensor a: data_offsets start at 4, leaving a gap"))
        XCTAssertTrue(message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#).contains("data section: is 8 bytes, but the tensors cover 4"))
        XCTAssertTrue(message(#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#).contains("tensor a: shape"))
        XCTAssertTrue(message(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}"#).contains("unknown field 'extra'"))
        XCTAssertTrue(message(#"{"__metadata__":{"k":5}}"#).contains("__metadata__.k: not a string"))
        XCTAssertTrue(message(#"{"a": nope}"#).contains("header: not valid JSON"))
        XCTAssertTrue(message(#"[1]"#).contains("does not start with '{'"))
        // A header length beyond the file.
        var long = handmade("{}", [])
        long[0] = 200
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes: long, path: "x")) {
            XCTAssertEqual(($0 as? CheckpointError)?.kind, .truncated)
            XCTAssertTrue("\($0)".contains("x: header length"), "\($0)")
        }
    }
}
