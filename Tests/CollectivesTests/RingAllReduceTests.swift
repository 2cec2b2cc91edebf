import Codecs
import Collectives
import Foundation
import TestSupport
import XCTest

final class RingAllReduceTests: XCTestCase {
    static let counts = [0, 1, 7, 1000, (1 << 20) + 3]
    static let codecs = [CodecConfig(.none), CodecConfig(.zstd, zstdLevel: 1), CodecConfig(.bf16Zstd, zstdLevel: 1)]

    /// One all-reduce on n in-memory ranks; returns every rank's result.
    func reduce(_ inputs: [[Float]], codec: CodecConfig, segment: Int, bucket: Int = 0) throws -> [[Float]] {
        let links = InMemoryRing.makeLinks(worldSize: inputs.count, timeout: 30)
        let comms = links.map { RingCommunicator(link: $0, codec: codec, segmentElements: segment) }
        defer { comms.forEach { $0.close() } }
        return try onThreads(inputs.count) { r in
            var x = inputs[r]
            try comms[r].allReduceSum(&x, bucket: bucket)
            return x
        }
    }

    func check(n: Int, count: Int, codec: CodecConfig) throws {
        let inputs = (0..<n).map { rankData(rank: $0, count: count) }
        // Small segments for small buffers (multi-segment path), the default for the big one.
        let segment = count > 100_000 ? defaultSegmentElements : 3
        let out = try reduce(inputs, codec: codec, segment: segment)
        let label = "n=\(n) count=\(count) codec=\(codec)"
        // Bit-identical on every rank.
        for r in 1..<n { XCTAssertTrue(out[r].elementsEqual(out[0], by: { $0.bitPattern == $1.bitPattern }), "rank \(r) differs: \(label)") }
        let expected = ringOrderSum(inputs)
        if codec.kind.isLossy {
            // Each stored partial is rounded once per hop: error <= (n) * 2^-8 * max partial.
            for i in 0..<count {
                let bound = inputs.map { abs($0[i]) }.reduce(0, +) * Float(n) / 256 + 1e-6
                if abs(out[0][i] - expected[i]) > bound { XCTFail("\(label) element \(i): \(out[0][i]) vs \(expected[i])"); break }
            }
        } else {
            XCTAssertTrue(out[0].elementsEqual(expected, by: { $0.bitPattern == $1.bitPattern }), "not the ring-order sum: \(label)")
            // And close to the exact (double) sum.
            for i in Swift.stride(from: 0, to: count, by: max(1, count / 1000)) {
                let d = inputs.map { Double($0[i]) }.reduce(0, +)
                XCTAssertEqual(Double(out[0][i]), d, accuracy: 1e-5 * Double(n), label)
            }
        }
        // Repeated run: bit-identical.
        let again = try reduce(inputs, codec: codec, segment: segment)
        XCTAssertTrue(again[0].elementsEqual(out[0], by: { $0.bitPattern == $1.bitPattern }), "not repeatable: \(label)")
    }

    func testRanks1to8AllCountsAllCodecs() throws {
        for codec in Self.codecs {
            for n in 1...8 {
                for count in Self.counts {
                    try check(n: n, count: count, codec: codec)
                }
            }
        }
    }

    func testBF16ErrorFeedbackRunningSumConverges() throws {
        let n = 3, count = 500, steps = 100
        let links = InMemoryRing.makeLinks(worldSize: n)
        let comms = links.map { RingCommunicator(link: $0, codec: CodecConfig(.bf16Zstd), segmentElements: 16) }
        defer { comms.forEach { $0.close() } }
        let inputs = (0..<n).map { rankData(rank: $0, count: count, seed: 5) }
        let exactStep = ringOrderSum(inputs).map(Double.init)
        let sums = try onThreads(n) { r -> [Double] in
            var running = [Double](repeating: 0, count: count)
            for _ in 0..<steps {
                var x = inputs[r]
                try comms[r].allReduceSum(&x, bucket: 4)
                for i in 0..<count { running[i] += Double(x[i]) }
            }
            return running
        }
        XCTAssertEqual(sums[0], sums[1]); XCTAssertEqual(sums[0], sums[2])
        // The running sum's error stays bounded (a few roundings), not proportional to steps.
        var worst = 0.0
        for i in 0..<count {
            let scale = inputs.map { Double(abs($0[i])) }.reduce(0, +) + 1e-9
            worst = max(worst, abs(sums[0][i] - exactStep[i] * Double(steps)) / scale)
        }
        XCTAssertLessThan(worst, 0.05, "relative running-sum error \(worst) after \(steps) steps")
        XCTAssertEqual(comms[0].residuals.buckets, [4])
        XCTAssertEqual(comms[0].residuals.get(bucket: 4)?.count, count)
    }

    func testOverlappedBucketsAndControlCollectives() throws {
        let n = 4
        let links = InMemoryRing.makeLinks(worldSize: n)
        let comms = links.map { RingCommunicator(link: $0, codec: CodecConfig(.zstd), segmentElements: 50) }
        defer { comms.forEach { $0.close() } }
        let sizes = [300, 0, 1, 1234]
        let arenas = (0..<n).map { rankData(rank: $0, count: sizes.reduce(0, +)) }
        let results = try onThreads(n) { r -> ([Float], Data, [[Double]], [Data]) in
            let comm = comms[r]
            var arena = arenas[r]
            try arena.withUnsafeMutableBufferPointer { p in
                var offset = 0
                for (b, s) in sizes.enumerated().reversed() { _ = b; _ = s }
                var starts: [Int] = []
                for s in sizes { starts.append(offset); offset += s }
                for b in (0..<sizes.count).reversed() {   // reverse layer order, like backward
                    comm.beginAllReduce(UnsafeMutableBufferPointer(rebasing: p[starts[b]..<(starts[b] + sizes[b])]), bucket: b)
                }
                try comm.finishAllReduces()
            }
            let bc = try comm.broadcast(r == 2 ? Data("weights".utf8) : Data(), root: 2)
            try comm.barrier()
            let g = try comm.allGather([Double(r), Double(r) * 0.5])
            let d = try comm.allGather(Data(repeating: UInt8(r), count: r * 100_000))
            return (arena, bc, g, d)
        }
        let expected = ringOrderSum(arenas)
        for r in 0..<n {
            // Bucket boundaries change the chunking, so compare each bucket's ring-order sum.
            var offset = 0
            for s in sizes {
                let part = ringOrderSum(arenas.map { Array($0[offset..<(offset + s)]) }.map { $0.isEmpty ? [] : $0 }.map { $0 })
                _ = expected
                if s > 0 { XCTAssertEqual(Array(results[r].0[offset..<(offset + s)]), part) }
                offset += s
            }
            XCTAssertEqual(results[r].1, Data("weights".utf8))
            XCTAssertEqual(results[r].2, (0..<n).map { [Double($0), Double($0) * 0.5] })
            XCTAssertEqual(results[r].3, (0..<n).map { Data(repeating: UInt8($0), count: $0 * 100_000) })
        }
    }

    func testLocalCommunicatorIsIdentity() throws {
        let c = LocalCommunicator()
        var x: [Float] = [1, 2, 3]
        try c.allReduceSum(&x)
        XCTAssertEqual(x, [1, 2, 3])
        x.withUnsafeMutableBufferPointer { c.beginAllReduce($0, bucket: 0) }
        try c.finishAllReduces()
        XCTAssertEqual(try c.broadcast(Data([1]), root: 0), Data([1]))
        XCTAssertEqual(try c.allGather([1.5]), [[1.5]])
        try c.barrier()
        XCTAssertEqual(c.worldSize, 1)
    }

    func testCorruptedBlockNamesThePeer() throws {
        // A link that flips one payload byte of the first block rank 1 receives.
        final class Corrupting: RingLink {
            let inner: RingLink
            var flipped = false
            init(_ inner: RingLink) { self.inner = inner }
            var rank: Int { inner.rank }; var worldSize: Int { inner.worldSize }
            var leftPeer: String { inner.leftPeer }; var rightPeer: String { inner.rightPeer }
            func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws { try inner.send(head: head, body: body) }
            func receive(into buffer: FrameBuffer) throws {
                try inner.receive(into: buffer)
                if !flipped && buffer.count > BlockHeader.size { buffer.pointer.storeBytes(of: 0xFF ^ buffer.pointer.load(fromByteOffset: BlockHeader.size, as: UInt8.self), toByteOffset: BlockHeader.size, as: UInt8.self); flipped = true }
            }
            func shutdown() { inner.shutdown() }
        }
        let links: [RingLink] = InMemoryRing.makeLinks(worldSize: 2, timeout: 5).enumerated().map { $0.offset == 1 ? Corrupting($0.element) as RingLink : $0.element as RingLink }
        let comms = links.map { RingCommunicator(link: $0, codec: CodecConfig(.none)) }
        defer { comms.forEach { $0.close() } }
        let errors = try onThreads(2, timeout: 20) { r -> String? in
            var x = [Float](repeating: 1, count: 100)
            do { try comms[r].allReduceSum(&x, bucket: 0); return nil } catch { return "\(error)" }
        }
        XCTAssertNotNil(errors[1])
        XCTAssertTrue(errors[1]!.contains("checksum") && errors[1]!.contains("rank 0"), errors[1]!)
        XCTAssertNotNil(errors[0], "rank 0 must fail too (link shut down), not hang")
    }
}
