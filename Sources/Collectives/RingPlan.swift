// The ring all-reduce plan: pure arithmetic, no I/O.
//
// The buffer is cut into `worldSize` chunks (sizes differ by at most one element; the first
// `count % worldSize` chunks get the extra one), each chunk into segments of at most
// `segmentElements`. Rank r owns chunk r.
//
// Reduce-scatter, step s = 0 ..< N-1: rank r sends chunk (r-1-s) mod N to rank r+1 and
// receives chunk (r-2-s) mod N from rank r-1, adding it to its own values. Chunk c therefore
// starts at rank c+1 and is summed in the fixed order
//     ((g[c+1] + g[c+2]) + g[c+3]) + ... + g[c]        (rank indices mod N)
// and ends, complete, at its owner c after N-1 steps.
// All-gather, step s = 0 ..< N-1: rank r sends chunk (r-s) mod N (at step 0 its own, encoded
// once; later the block received at step s-1, forwarded unchanged) and receives chunk
// (r-1-s) mod N, which overwrites its values.

public struct RingPlan: Equatable, Sendable {
    public enum Phase: UInt8, Sendable { case reduceScatter = 0, allGather = 1 }

    /// One block moving over one hop.
    public struct Transfer: Equatable, Sendable {
        public var phase: Phase
        public var step: Int
        public var chunk: Int
        public var segment: Int
        /// Element range of the buffer.
        public var range: Range<Int>
        /// Sends only: index into `receives(rank:)` that must have completed before this send
        /// (the partial sum it extends, or the block it forwards). nil: ready at once.
        public var after: Int?
        /// Sends: forward the block received at `after` unchanged (all-gather steps >= 1).
        /// Receives: keep the block for forwarding.
        public var forward: Bool
    }

    public let worldSize: Int
    public let count: Int
    public let segmentElements: Int
    /// Element range of each chunk.
    public let chunks: [Range<Int>]

    public init(worldSize: Int, count: Int, segmentElements: Int) {
        precondition(worldSize >= 1 && count >= 0 && segmentElements >= 1)
        self.worldSize = worldSize
        self.count = count
        self.segmentElements = segmentElements
        let q = count / worldSize, extra = count % worldSize
        var start = 0
        var chunks: [Range<Int>] = []
        for c in 0..<worldSize {
            let n = q + (c < extra ? 1 : 0)
            chunks.append(start..<(start + n))
            start += n
        }
        self.chunks = chunks
    }

    /// The segments of chunk c.
    public func segments(ofChunk c: Int) -> [Range<Int>] {
        let r = chunks[c]
        return stride(from: r.lowerBound, to: r.upperBound, by: segmentElements).map {
            $0..<Swift.min($0 + segmentElements, r.upperBound)
        }
    }

    @inline(__always) private func mod(_ x: Int) -> Int { ((x % worldSize) + worldSize) % worldSize }

    /// The chunk rank r sends at (phase, step).
    public func chunkSent(rank r: Int, phase: Phase, step s: Int) -> Int {
        phase == .reduceScatter ? mod(r - 1 - s) : mod(r - s)
    }

    /// The chunk rank r receives at (phase, step).
    public func chunkReceived(rank r: Int, phase: Phase, step s: Int) -> Int {
        phase == .reduceScatter ? mod(r - 2 - s) : mod(r - 1 - s)
    }

    /// Everything rank r receives from its left neighbour, in arrival order.
    public func receives(rank r: Int) -> [Transfer] {
        guard worldSize > 1 else { return [] }
        var out: [Transfer] = []
        for phase in [Phase.reduceScatter, .allGather] {
            for s in 0..<(worldSize - 1) {
                let c = chunkReceived(rank: r, phase: phase, step: s)
                for (j, range) in segments(ofChunk: c).enumerated() {
                    out.append(Transfer(phase: phase, step: s, chunk: c, segment: j, range: range, after: nil,
                                        forward: phase == .allGather && s < worldSize - 2))
                }
            }
        }
        return out
    }

    /// Everything rank r sends to its right neighbour, in order, with dependencies.
    public func sends(rank r: Int) -> [Transfer] {
        guard worldSize > 1 else { return [] }
        let recvs = receives(rank: r)
        var index: [Int: Int] = [:]   // (phase, step, segment) -> receive index
        func key(_ p: Phase, _ s: Int, _ j: Int) -> Int { (Int(p.rawValue) * worldSize + s) << 32 | j }
        for (i, t) in recvs.enumerated() { index[key(t.phase, t.step, t.segment)] = i }
        var out: [Transfer] = []
        for phase in [Phase.reduceScatter, .allGather] {
            for s in 0..<(worldSize - 1) {
                let c = chunkSent(rank: r, phase: phase, step: s)
                for (j, range) in segments(ofChunk: c).enumerated() {
                    var after: Int? = nil
                    switch (phase, s) {
                    case (.reduceScatter, 0): after = nil
                    case (.reduceScatter, _): after = index[key(.reduceScatter, s - 1, j)]
                    case (.allGather, 0): after = index[key(.reduceScatter, worldSize - 2, j)]
                    case (.allGather, _): after = index[key(.allGather, s - 1, j)]
                    }
                    out.append(Transfer(phase: phase, step: s, chunk: c, segment: j, range: range, after: after,
                                        forward: phase == .allGather && s > 0))
                }
            }
        }
        return out
    }
}
