// Executes a RingPlan over a RingLink: the calling thread encodes and sends, a receiver
// thread receives, checks, decodes and sums, so encoding, the wire and decoding overlap.
import Codecs
import Telemetry
import Foundation

/// Tuning. Segments of 64 Ki elements (256 KiB raw) keep several blocks in flight per
/// chunk (the pipeline needs >= 3-4 to overlap encode/send/recv/decode) while per-frame
/// overhead (header, syscalls, zstd frame setup) stays well under 1%.
public let defaultSegmentElements = 64 * 1024

/// Frame and progress state shared by the sender (caller) and the receiver thread of one run.
private final class RunState: @unchecked Sendable {
    let cond = NSCondition()
    var done: [Bool]
    var kept: [FrameBuffer?]
    /// For raw reduce-scatter receives: the checksum of the range's sums (what this rank
    /// sends next), computed in the reduce pass.
    var sums: [(range: Range<Int>, checksum: UInt64)?]
    var error: Error?
    var receiverFinished = false

    init(receives: Int) {
        done = Array(repeating: false, count: receives)
        kept = Array(repeating: nil, count: receives)
        sums = Array(repeating: nil, count: receives)
    }

    func fail(_ e: Error) {
        cond.lock(); if error == nil { error = e }; cond.broadcast(); cond.unlock()
    }

    func complete(_ i: Int, keep: FrameBuffer?, sums: (range: Range<Int>, checksum: UInt64)? = nil) {
        cond.lock(); done[i] = true; kept[i] = keep; self.sums[i] = sums; cond.broadcast(); cond.unlock()
    }

    /// Waits for receive i; returns the kept frame and the checksum of the sums, if any.
    func wait(_ i: Int) throws -> (frame: FrameBuffer?, sums: (range: Range<Int>, checksum: UInt64)?) {
        cond.lock(); defer { cond.unlock() }
        while !done[i] && error == nil { cond.wait() }
        if let e = error { throw e }
        let f = kept[i]
        kept[i] = nil
        return (f, sums[i])
    }

    func finishReceiver() { cond.lock(); receiverFinished = true; cond.broadcast(); cond.unlock() }
    func waitReceiver() { cond.lock(); while !receiverFinished { cond.wait() }; cond.unlock() }
}

/// One long-lived thread that runs submitted jobs in order (the receiver side of every run:
/// a thread per run would add ~50-100 us of creation to each all-reduce).
final class WorkerThread: @unchecked Sendable {
    private let cond = NSCondition()
    private var jobs: [() -> Void] = []
    private var started = false
    private var stopped = false
    private let name: String

    init(name: String) { self.name = name }

    func submit(_ job: @escaping () -> Void) {
        cond.lock()
        jobs.append(job)
        if !started {
            started = true
            let t = Thread { [self] in loop() }   // lives as long as the process; idles on the condition
            t.name = name
            t.stackSize = 1 << 20
            t.start()
        }
        cond.signal()
        cond.unlock()
    }

    /// Lets the thread exit once its queue is empty.
    func stop() {
        cond.lock(); stopped = true; cond.signal(); cond.unlock()
    }

    private func loop() {
        while true {
            cond.lock()
            while jobs.isEmpty && !stopped { cond.wait() }
            if jobs.isEmpty { cond.unlock(); return }
            let job = jobs.removeFirst()
            cond.unlock()
            job()
        }
    }
}

/// The ring all-reduce (SUM, in place) of one rank. Not thread-safe: one run at a time.
public final class RingAllReduce {
    public let link: RingLink
    public let codec: CodecConfig
    public let segmentElements: Int
    public let residuals: ResidualStore
    public var rank: Int { link.rank }
    public var worldSize: Int { link.worldSize }
    /// Bytes put on the wire (headers included) and their uncompressed equivalent.
    public private(set) var bytesSent = 0
    public private(set) var bytesRaw = 0
    /// Seconds the sending thread spent encoding blocks (compression, bf16 rounding).
    public private(set) var encodeSeconds = 0.0
    /// Records encode/send/receive/decode/reduce spans for `--timeline` (disabled by default).
    public var tracer: Tracer = .disabled

    private let sendCodec: BlockCodec
    private let recvCodec: BlockCodec
    private let sendFrame = FrameBuffer(capacity: 1 << 16)
    private let recvFrame = FrameBuffer(capacity: 1 << 16)
    private let receiver = WorkerThread(name: "ring-recv")
    // Frames kept for forwarding, reused across segments and runs: fresh 256 KiB allocations
    // cost a page fault per 4 KiB on every all-gather hop.
    private let poolLock = NSLock()
    private var pool: [FrameBuffer] = []

    private func takeFrame() -> FrameBuffer {
        poolLock.lock(); defer { poolLock.unlock() }
        return pool.popLast() ?? FrameBuffer(capacity: 1 << 16)
    }

    private func giveBack(_ f: FrameBuffer) {
        poolLock.lock(); defer { poolLock.unlock() }
        if pool.count < 64 { pool.append(f) }
    }
    private var plans: [Int: (sends: [RingPlan.Transfer], recvs: [RingPlan.Transfer])] = [:]

    public init(link: RingLink, codec: CodecConfig = CodecConfig(), segmentElements: Int = defaultSegmentElements,
                residuals: ResidualStore = ResidualStore()) {
        self.link = link
        self.codec = codec
        self.segmentElements = max(1, segmentElements)
        self.residuals = residuals
        sendCodec = codec.makeCodec()
        recvCodec = codec.makeCodec()
    }

    deinit { receiver.stop() }

    private func transfers(count: Int) -> (sends: [RingPlan.Transfer], recvs: [RingPlan.Transfer]) {
        if let p = plans[count] { return p }
        let plan = RingPlan(worldSize: worldSize, count: count, segmentElements: segmentElements)
        let p = (plan.sends(rank: rank), plan.receives(rank: rank))
        if plans.count > 64 { plans = [:] }
        plans[count] = p
        return p
    }

    /// Sums `buffer` over all ranks, in place. Every rank ends with identical bytes.
    /// `bucket` identifies the buffer (block headers carry it; lossy codecs keep a residual per bucket).
    /// `compress: false` sends raw float32 blocks on a lossless ring (`--codec auto` probing):
    /// every lossless ring accepts them, and the sums are the same bits either way.
    public func run(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int, compress: Bool = true) throws {
        guard worldSize > 1, buffer.count > 0 else { return }
        let bucketStart = tracer.isEnabled ? tracer.now() : 0
        defer { if tracer.isEnabled { tracer.span("all-reduce bucket \(bucket)", lane: .ringSend, start: bucketStart, args: ["bucket": bucket, "elements": buffer.count]) } }
        let (sends, recvs) = transfers(count: buffer.count)
        let state = RunState(receives: recvs.count)
        let residual: UnsafeMutableBufferPointer<Float>? =
            codec.kind.isLossy ? residuals.buffer(bucket: bucket, count: buffer.count) : nil
        receiver.submit { [self] in
            do {
                try receiveLoop(recvs, buffer: buffer, bucket: bucket, state: state)
            } catch {
                state.fail(error)
                link.shutdown()
            }
            state.finishReceiver()
        }
        do {
            try sendLoop(sends, buffer: buffer, bucket: bucket, residual: residual, state: state,
                         raw: codec.kind == .none || (!compress && !codec.kind.isLossy))
        } catch {
            state.fail(error)
            link.shutdown()
        }
        state.waitReceiver()
        if let e = state.error { throw e }
    }

    private func sendLoop(_ sends: [RingPlan.Transfer], buffer: UnsafeMutableBufferPointer<Float>, bucket: Int,
                          residual: UnsafeMutableBufferPointer<Float>?, state: RunState, raw: Bool) throws {
        let base = buffer.baseAddress!
        for t in sends {
            var kept: FrameBuffer? = nil
            var knownSums: (range: Range<Int>, checksum: UInt64)? = nil
            if let a = t.after { (kept, knownSums) = try state.wait(a) }
            if t.forward {
                guard let f = kept else { throw RingError("rank \(rank): internal: nothing to forward") }
                // Forwarded unchanged except the step field (the payload and its checksum are untouched).
                f.pointer.storeBytes(of: UInt32(t.step).littleEndian, toByteOffset: 4, as: UInt32.self)
                let sendStart = tracer.isEnabled ? tracer.now() : 0
                try link.send(head: f.bytes, body: UnsafeRawBufferPointer(start: nil, count: 0))
                if tracer.isEnabled { tracer.span("send", lane: .ringSend, start: sendStart, args: spanArgs(t, bucket, forwarded: true)) }
                bytesSent += f.count
                giveBack(f)
                bytesRaw += BlockHeader.size + t.range.count * 4
                continue
            }
            let src = UnsafeBufferPointer(start: base + t.range.lowerBound, count: t.range.count)
            var header = BlockHeader(codec: .rawF32, phase: t.phase.rawValue, step: UInt32(t.step),
                                     bucket: UInt32(truncatingIfNeeded: bucket), chunk: UInt32(t.chunk),
                                     segment: UInt32(t.segment), rawLength: UInt32(t.range.count * 4),
                                     encodedLength: 0, checksum: 0)
            if raw {
                // Zero copy: the payload is the buffer itself.
                let body = UnsafeRawBufferPointer(src)
                header.encodedLength = UInt32(body.count)
                // The reduce pass that wrote these sums already checksummed them (not so for
                // this rank's own values at the first reduce-scatter step).
                if let k = knownSums, k.range == t.range { header.checksum = k.checksum } else { header.checksum = blockChecksum(body) }
                sendFrame.reserve(BlockHeader.size)
                header.write(to: sendFrame.pointer)
                let sendStart = tracer.isEnabled ? tracer.now() : 0
                try link.send(head: UnsafeRawBufferPointer(start: sendFrame.pointer, count: BlockHeader.size), body: body)
                if tracer.isEnabled { tracer.span("send", lane: .ringSend, start: sendStart, args: spanArgs(t, bucket)) }
                bytesSent += BlockHeader.size + body.count
            } else {
                let cap = sendCodec.maxEncodedBytes(count: t.range.count)
                sendFrame.reserve(BlockHeader.size + cap)
                let payload = UnsafeMutableRawBufferPointer(start: sendFrame.pointer + BlockHeader.size, count: cap)
                let res = residual.map { UnsafeMutableBufferPointer(start: $0.baseAddress! + t.range.lowerBound, count: t.range.count) }
                let (wire, n): (WireCodec, Int)
                let encodeStart = DispatchTime.now().uptimeNanoseconds
                let traceStart = tracer.isEnabled ? tracer.now() : 0
                do {
                    (wire, n) = try sendCodec.encode(src, residual: res, into: payload)
                } catch {
                    throw RingError("rank \(rank): encoding bucket \(bucket) chunk \(t.chunk) for \(link.rightPeer): \(error)")
                }
                encodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - encodeStart) / 1e9
                if tracer.isEnabled { tracer.span("encode", lane: .ringSend, start: traceStart, args: spanArgs(t, bucket)) }
                header.codec = wire
                header.encodedLength = UInt32(n)
                header.checksum = blockChecksum(payload.baseAddress, count: n)
                header.write(to: sendFrame.pointer)
                let sendStart = tracer.isEnabled ? tracer.now() : 0
                try link.send(head: UnsafeRawBufferPointer(start: sendFrame.pointer, count: BlockHeader.size + n),
                              body: UnsafeRawBufferPointer(start: nil, count: 0))
                if tracer.isEnabled { tracer.span("send", lane: .ringSend, start: sendStart, args: spanArgs(t, bucket)) }
                bytesSent += BlockHeader.size + n
                if wire.isLossy && t.phase == .allGather {
                    // The owner keeps exactly what every other rank will decode.
                    let dst = UnsafeMutableBufferPointer(start: base + t.range.lowerBound, count: t.range.count)
                    try sendCodec.decode(UnsafeRawBufferPointer(start: payload.baseAddress, count: n), wire: wire,
                                         into: dst, mode: .overwrite)
                }
            }
            bytesRaw += BlockHeader.size + t.range.count * 4
        }
    }

    private func receiveLoop(_ recvs: [RingPlan.Transfer], buffer: UnsafeMutableBufferPointer<Float>, bucket: Int,
                             state: RunState) throws {
        let base = buffer.baseAddress!
        for (i, t) in recvs.enumerated() {
            let frame = t.forward ? takeFrame() : recvFrame
            let peer = link.leftPeer
            func bad(_ what: String) -> RingError {
                RingError("rank \(rank): bad block from \(peer) (bucket \(bucket), \(t.phase) step \(t.step), chunk \(t.chunk) segment \(t.segment)): \(what)")
            }
            let dst = UnsafeMutableBufferPointer(start: base + t.range.lowerBound, count: t.range.count)
            // Raw float32 blocks of the all-gather that are not forwarded land straight in the
            // buffer (no copy); everything else lands in the frame buffer and is decoded from there.
            let direct = !t.forward && t.phase == .allGather && codec.accepts(.rawF32)
            var header: BlockHeader? = nil
            let receiveStart = tracer.isEnabled ? tracer.now() : 0
            let placed = try link.receive(into: frame, headBytes: BlockHeader.size) { head, tail in
                guard direct, head.count == BlockHeader.size, let h = try? BlockHeader.parse(head),
                      h.codec == .rawF32, Int(h.encodedLength) == tail, tail == t.range.count * 4,
                      h.bucket == UInt32(truncatingIfNeeded: bucket), h.phase == t.phase.rawValue, h.step == UInt32(t.step),
                      h.chunk == UInt32(t.chunk), h.segment == UInt32(t.segment) else { return nil }
                header = h
                return UnsafeMutableRawBufferPointer(dst)
            }
            if tracer.isEnabled { tracer.span("receive", lane: .ringReceive, start: receiveStart, args: spanArgs(t, bucket)) }
            let h: BlockHeader
            if let ph = header, placed { h = ph } else {
                do { h = try BlockHeader.parse(frame.bytes) } catch { throw bad("\(error)") }
            }
            guard h.bucket == UInt32(truncatingIfNeeded: bucket), h.phase == t.phase.rawValue, h.step == UInt32(t.step),
                  h.chunk == UInt32(t.chunk), h.segment == UInt32(t.segment) else {
                throw bad("header names bucket \(h.bucket) phase \(h.phase) step \(h.step) chunk \(h.chunk) segment \(h.segment)")
            }
            guard h.rawLength == UInt32(t.range.count * 4) else { throw bad("raw length \(h.rawLength), expected \(t.range.count * 4)") }
            guard codec.accepts(h.codec) else { throw bad("codec \(h.codec) on a ring configured for \(codec)") }
            if placed {
                let sum = blockChecksum(UnsafeRawBufferPointer(dst))
                guard sum == h.checksum else {
                    throw bad("checksum mismatch: header 0x\(String(h.checksum, radix: 16)), payload 0x\(String(sum, radix: 16))")
                }
                state.complete(i, keep: nil)
                continue
            }
            guard Int(h.encodedLength) == frame.count - BlockHeader.size else {
                throw bad("encoded length \(h.encodedLength) but \(frame.count - BlockHeader.size) payload bytes")
            }
            let payload = UnsafeRawBufferPointer(start: frame.pointer + BlockHeader.size, count: Int(h.encodedLength))
            if h.codec == .rawF32 && t.phase == .reduceScatter && payload.count == t.range.count * 4 {
                // One pass: sum and checksum. A mismatch fails the run, so the sum is never used.
                let reduceStart = tracer.isEnabled ? tracer.now() : 0
                defer { if tracer.isEnabled { tracer.span("reduce", lane: .ringReceive, start: reduceStart, args: spanArgs(t, bucket)) } }
                // An empty range: the payload and the sums are the same zero bytes.
                let (sum, sums) = t.range.count == 0 ? { let c = blockChecksum(payload); return (c, c) }() :
                    accumulateRawF32WithChecksums(payload.baseAddress!, into: dst.baseAddress!, count: t.range.count)
                guard sum == h.checksum else {
                    throw bad("checksum mismatch: header 0x\(String(h.checksum, radix: 16)), payload 0x\(String(sum, radix: 16))")
                }
                state.complete(i, keep: nil, sums: (t.range, sums))
                continue
            }
            let sum = blockChecksum(payload)
            guard sum == h.checksum else {
                throw bad("checksum mismatch: header 0x\(String(h.checksum, radix: 16)), payload 0x\(String(sum, radix: 16))")
            }
            // Reduce-scatter blocks are decoded and summed in one pass ("reduce"); all-gather
            // blocks are decoded in place ("decode").
            let decodeStart = tracer.isEnabled ? tracer.now() : 0
            do {
                try recvCodec.decode(payload, wire: h.codec, into: dst,
                                     mode: t.phase == .reduceScatter ? .accumulate : .overwrite)
            } catch { throw bad("\(error)") }
            if tracer.isEnabled {
                tracer.span(t.phase == .reduceScatter ? "reduce" : "decode", lane: .ringReceive, start: decodeStart,
                            args: spanArgs(t, bucket))
            }
            state.complete(i, keep: t.forward ? frame : nil)
        }
    }

    private func spanArgs(_ t: RingPlan.Transfer, _ bucket: Int, forwarded: Bool = false) -> [String: Int] {
        var a = ["bucket": bucket, "chunk": t.chunk, "segment": t.segment, "elements": t.range.count]
        if forwarded { a["forwarded"] = 1 }
        return a
    }
}
