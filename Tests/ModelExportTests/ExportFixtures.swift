import Datasets
import Foundation
import Layers
import ModelExport
import XCTest

/// Files and processes the export tests share: .npy arrays, the check script, real images.
enum ExportFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let fashionMNIST = "/usr/share/datasets/fashion-mnist"
    /// Fashion-MNIST's training-set statistics (DatasetStatistics gives 0.2860, 0.3530).
    static let fashionMean: [Float] = [0.2860], fashionStd: [Float] = [0.3530]

    /// A NumPy .npy file (format 1.0) of little-endian float32 in C order.
    static func writeNPY(_ path: String, shape: [Int], values: [Float]) throws {
        precondition(shape.reduce(1, *) == values.count, "npy shape \(shape) does not hold \(values.count) values")
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes += ProtobufWriter.littleEndianBytes(values)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Runs scripts/check-onnx.sh; returns its status and output (stdout and stderr together).
    static func checkONNX(_ arguments: [String], timeout: TimeInterval = 900) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repository + "/scripts/check-onnx.sh"] + arguments
        p.currentDirectoryURL = URL(fileURLWithPath: repository)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        // Read on another thread (so a chatty script never blocks on a full pipe); handed over
        // through the semaphore.
        let box = OutputBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { box.data = out.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            XCTFail("scripts/check-onnx.sh did not finish in \(timeout) s")
        }
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: box.data, as: UTF8.self))
    }

    /// The figure check-onnx.py prints: `max relative difference R (...)`.
    static func maxRelativeDifference(in output: String) -> Double? {
        guard let range = output.range(of: "max relative difference ") else { return nil }
        return Double(output[range.upperBound...].prefix { !$0.isWhitespace })
    }

    /// The first `count` test images of Fashion-MNIST, uint8 CHW.
    static func testImages(count: Int) throws -> LabeledImages {
        let all = try Dataset.readIDXPair(images: fashionMNIST + "/t10k-images-idx3-ubyte.gz",
                                          labels: fashionMNIST + "/t10k-labels-idx1-ubyte.gz")
        return all.subset(Array(0..<count))
    }

    /// Gives every bias, batch-norm scale and shift, and running statistic a deterministic
    /// value away from its initial one (0, 1, 0, mean 0, var 1), so the export is checked on
    /// values that would expose a swapped or dropped tensor.
    static func perturb(_ network: Network) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func unit() -> Float {  // uniform in [0, 1)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        for slot in network.parameters.layout.slots {
            let v = network.parameters.view(slot)
            switch slot.role {
            case .bias: for i in v.indices { v[i] = (unit() - 0.5) * 0.2 }
            case .normScale: for i in v.indices { v[i] = 0.5 + unit() }
            case .normShift: for i in v.indices { v[i] = (unit() - 0.5) * 0.4 }
            case .weight, .buffer: break
            }
        }
        for slot in network.buffers.layout.slots {
            let v = network.buffers.view(slot)
            if slot.name.hasSuffix("running_mean") { for i in v.indices { v[i] = (unit() - 0.5) * 0.6 } }
            if slot.name.hasSuffix("running_var") { for i in v.indices { v[i] = 0.5 + 1.5 * unit() } }
        }
    }
}

/// A script's output, written by the reading thread before it signals.
private final class OutputBox: @unchecked Sendable {
    var data = Data()
}
