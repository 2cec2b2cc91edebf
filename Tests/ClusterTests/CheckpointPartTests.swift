import Checkpoints
import Cluster
import Foundation
import XCTest

/// A checkpoint part from a worker is read whole or refused: a count that is not its shape's
/// product, a huge or negative count, a shape that overflows, an attachment too short or too
/// long, each an error naming the tensor (never a trap, never a shorter checkpoint).
final class CheckpointPartTests: XCTestCase {
    func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    func testAPartThatAddsUpIsDecoded() throws {
        let entries = [TensorEntry(name: "w", shape: [2, 3], count: 6), TensorEntry(name: "b", shape: [2], count: 2)]
        let t = try Coordinator.decodeTensors(entries, bytes([1, 2, 3, 4, 5, 6, 7, 8]))
        XCTAssertEqual(t.map(\.name), ["w", "b"])
        XCTAssertEqual(t[1].values, [7, 8])
        XCTAssertEqual(try Coordinator.decodeTensors([], []).count, 0)
    }

    func testAPartThatDoesNotAddUpIsAnErrorNamingTheTensor() {
        let eight = bytes([1, 2, 3, 4, 5, 6, 7, 8])
        let cases: [([TensorEntry], [UInt8], String)] = [
            ([TensorEntry(name: "w", shape: [2, 3], count: 5)], eight, "tensor w: count 5 is not the product of its shape [2, 3]"),
            ([TensorEntry(name: "w", shape: [-1], count: -1)], eight, "tensor w: shape [-1] is not a valid shape"),
            ([TensorEntry(name: "w", shape: [Int.max, 2], count: 0)], eight, "tensor w: shape"),
            ([TensorEntry(name: "w", shape: [Int.max / 2], count: Int.max / 2)], eight, "tensor w: \(Int.max / 2) values at byte 0 run past the 32-byte attachment"),
            ([TensorEntry(name: "w", shape: [6], count: 6), TensorEntry(name: "b", shape: [4], count: 4)], eight,
             "tensor b: 4 values at byte 24 run past the 32-byte attachment"),
            ([TensorEntry(name: "w", shape: [6], count: 6)], eight, "the tensors take 24 of the attachment's 32 bytes"),
        ]
        for (entries, attachment, expected) in cases {
            XCTAssertThrowsError(try Coordinator.decodeTensors(entries, attachment)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// The coordinator writes a checkpoint only if its weights hash to what the ranks agreed
    /// on: a value changed on the way (or a part cut wrong) is refused, naming the tensors.
    func testAnAssembledCheckpointMustHashToTheAgreedWeights() throws {
        let weights = [SafeTensor(name: "w", shape: [2], values: [1, 2]), SafeTensor(name: "b", shape: [1], values: [3])]
        let tensors = weights + [SafeTensor(name: "optimizer.w.momentum_buffer", shape: [2], values: [9, 9])]
        let agreed = SafeTensor.contentSHA256(weights)
        XCTAssertNil(Coordinator.weightsMismatch(tensors, hashed: 2, agreed: agreed))
        var changed = tensors
        changed[1].values[0] = 3.0000002
        let why = try XCTUnwrap(Coordinator.weightsMismatch(changed, hashed: 2, agreed: agreed))
        XCTAssertTrue(why.contains("its weights (w, b) hash to") && why.contains("not to the weights the ranks agreed on (\(agreed.prefix(16)))"), why)
        XCTAssertNotNil(Coordinator.weightsMismatch(tensors, hashed: 1, agreed: agreed), "a cut in the wrong place")
        XCTAssertNotNil(Coordinator.weightsMismatch(tensors, hashed: 0, agreed: agreed))
        XCTAssertNotNil(Coordinator.weightsMismatch(tensors, hashed: 4, agreed: agreed))
    }
}
