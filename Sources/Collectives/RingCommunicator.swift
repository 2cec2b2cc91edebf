// A Communicator over any RingLink: all-reduce via RingAllReduce (synchronously or queued
// on a background thread), broadcast / barrier / all-gather via small control frames.
import Codecs
import Telemetry
import Foundation

/// Control frame header (16 bytes, little-endian): kind 0x43 'C', op, reserved u16 = 0,
/// sequence u32, origin rank u32, payload length u32. See docs/wire-format.md.
enum ControlOp: UInt8 { case allGather = 1, broadcast = 2, barrier = 3 }

public final class RingCommunicator: Communicator, @unchecked Sendable {
    public static let controlHeaderSize = 16
    public static let controlKind: UInt8 = 0x43

    public let link: RingLink
    public let codec: CodecConfig
    public let residuals: ResidualStore
    public var rank: Int { link.rank }
    public var tracer: Tracer {
        get { ring.tracer }
        set { ring.tracer = newValue }
    }
    public var worldSize: Int { link.worldSize }

    private let ring: RingAllReduce
    private let cond = NSCondition()
    private var queue: [(buffer: UnsafeMutableBufferPointer<Float>, bucket: Int, compress: Bool)] = []
    private var compressing = true
    private var busy = false
    private var failure: Error?
    private var closed = false
    private var worker: Thread?
    private var sequence: UInt32 = 0
    private let controlFrame = FrameBuffer()

    /// `segmentElements`: see `defaultSegmentElements` (tests pass small values to reach the
    /// multi-segment path with small buffers).
    public init(link: RingLink, codec: CodecConfig = CodecConfig(), segmentElements: Int = defaultSegmentElements,
                residuals: ResidualStore = ResidualStore()) {
        self.link = link
        self.codec = codec
        self.residuals = residuals
        ring = RingAllReduce(link: link, codec: codec, segmentElements: segmentElements, residuals: residuals)
    }

    deinit { close() }

    public var stats: CommunicatorStats {
        cond.lock(); defer { cond.unlock() }
        var s = CommunicatorStats()
        s.bytesSent = ring.bytesSent
        s.bytesRaw = ring.bytesRaw
        s.encodeSeconds = ring.encodeSeconds
        return s
    }

    // MARK: all-reduce

    public var compresses: Bool {
        get { cond.lock(); defer { cond.unlock() }; return compressing }
        set { cond.lock(); compressing = newValue; cond.unlock() }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int) throws {
        try finishAllReduces()
        let compress = compresses
        try guarded { try ring.run(buffer, bucket: bucket, compress: compress) }
    }

    public func beginAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int) {
        cond.lock(); defer { cond.unlock() }
        // The setting at submission time travels with the bucket.
        queue.append((buffer, bucket, compressing))
        if worker == nil {
            let t = Thread { [weak self] in self?.workerLoop() }
            t.stackSize = 1 << 20
            worker = t
            t.start()
        }
        cond.broadcast()
    }

    public func finishAllReduces() throws {
        cond.lock(); defer { cond.unlock() }
        while (!queue.isEmpty || busy) && failure == nil && !closed { cond.wait() }
        // After a failure or a close, still wait for the run in flight to end (the link is
        // shut down, so it ends at once): the caller frees or reuses its buffers as soon as
        // this returns, and a receiver still decoding into them would corrupt the heap (seen
        // when an elastic ring was interrupted mid-bucket and the trainer was released).
        while busy { cond.wait() }
        if let f = failure { queue.removeAll(); throw f }
        if closed { throw RingError("rank \(rank): communicator closed") }
    }

    private func workerLoop() {
        while true {
            cond.lock()
            while queue.isEmpty && !closed { cond.wait() }
            if closed { cond.unlock(); return }
            let (buffer, bucket, compress) = queue.removeFirst()
            let failed = failure != nil
            busy = true
            cond.unlock()
            var err: Error? = nil
            if !failed {
                do { try ring.run(buffer, bucket: bucket, compress: compress) } catch { err = error }
            }
            cond.lock()
            busy = false
            if let e = err, failure == nil { failure = e }
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Runs a synchronous collective unless the communicator already failed; records failures.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        cond.lock()
        if let f = failure { cond.unlock(); throw f }
        if closed { cond.unlock(); throw RingError("rank \(rank): communicator closed") }
        cond.unlock()
        do { return try body() } catch {
            cond.lock(); if failure == nil { failure = error }; cond.unlock()
            link.shutdown()
            throw error
        }
    }

    // MARK: control collectives

    private func sendControl(_ op: ControlOp, seq: UInt32, origin: Int, _ payload: Data) throws {
        var head = [UInt8](repeating: 0, count: RingCommunicator.controlHeaderSize)
        head.withUnsafeMutableBytes { p in
            p.storeBytes(of: RingCommunicator.controlKind, toByteOffset: 0, as: UInt8.self)
            p.storeBytes(of: op.rawValue, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: seq.littleEndian, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt32(origin).littleEndian, toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 12, as: UInt32.self)
        }
        try head.withUnsafeBytes { h in
            try payload.withUnsafeBytes { b in try link.send(head: h, body: b) }
        }
    }

    private func receiveControl(_ op: ControlOp, seq: UInt32, origin: Int) throws -> Data {
        try link.receive(into: controlFrame)
        let b = controlFrame.bytes
        let n = RingCommunicator.controlHeaderSize
        func bad(_ what: String) -> RingError {
            RingError("rank \(rank): bad control frame from \(link.leftPeer) (\(op) #\(seq)): \(what)")
        }
        guard b.count >= n else { throw bad("\(b.count) bytes, shorter than the header") }
        let kind = b.load(fromByteOffset: 0, as: UInt8.self)
        let gotOp = b.load(fromByteOffset: 1, as: UInt8.self)
        let gotSeq = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let gotOrigin = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let len = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard kind == RingCommunicator.controlKind else { throw bad("kind byte 0x\(String(kind, radix: 16))") }
        guard gotOp == op.rawValue, gotSeq == seq, gotOrigin == UInt32(origin) else {
            throw bad("got op \(gotOp) #\(gotSeq) from origin \(gotOrigin), expected origin \(origin): ranks called different collectives")
        }
        guard Int(len) == b.count - n else { throw bad("length \(len) but \(b.count - n) payload bytes") }
        return Data(UnsafeRawBufferPointer(rebasing: b[n...]))
    }

    private func nextSequence() -> UInt32 { sequence &+= 1; return sequence }

    public func allGather(_ data: Data) throws -> [Data] {
        try finishAllReduces()
        let n = worldSize, r = rank
        guard n > 1 else { return [data] }
        return try guarded {
            let seq = nextSequence()
            var items = [Data](repeating: Data(), count: n)
            items[r] = data
            // Sends run on a helper thread so large items cannot deadlock the ring.
            let outbox = AllGatherOutbox(own: r, data)
            let sent = DispatchSemaphore(value: 0)
            let sender = Thread { [self] in
                for s in 0..<(n - 1) {
                    let origin = (r - s + n) % n
                    guard let item = outbox.waitForItem(origin) else { break }
                    do { try sendControl(.allGather, seq: seq, origin: origin, item) } catch {
                        outbox.fail(error)
                        link.shutdown()
                        break
                    }
                }
                sent.signal()
            }
            sender.start()
            var recvError: Error? = nil
            for s in 0..<(n - 1) {
                let origin = (r - 1 - s + n) % n
                do {
                    let item = try receiveControl(.allGather, seq: seq, origin: origin)
                    items[origin] = item
                    outbox.put(origin, item)
                } catch {
                    recvError = error
                    outbox.fail(error)
                    link.shutdown()
                    break
                }
            }
            sent.wait()
            let sendError = outbox.error
            if let e = recvError ?? sendError { throw e }
            return items
        }
    }

    public func broadcast(_ data: Data, root: Int) throws -> Data {
        try finishAllReduces()
        let n = worldSize, r = rank
        guard root >= 0 && root < n else { throw RingError("rank \(r): broadcast root \(root) outside world of size \(n)") }
        guard n > 1 else { return data }
        return try guarded {
            let seq = nextSequence()
            if r == root {
                try sendControl(.broadcast, seq: seq, origin: root, data)
                return data
            }
            let item = try receiveControl(.broadcast, seq: seq, origin: root)
            if (r + 1) % n != root { try sendControl(.broadcast, seq: seq, origin: root, item) }
            return item
        }
    }

    public func barrier() throws {
        _ = try allGather(Data())
    }

    public func close() {
        cond.lock()
        let wasClosed = closed
        closed = true
        cond.broadcast()
        cond.unlock()
        if !wasClosed { link.shutdown() }
    }
}

/// What the all-gather's receiving loop hands its sending thread: the items received so far,
/// by origin, or the error that ends both.
private final class AllGatherOutbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: Data]
    private var failure: Error?

    init(own origin: Int, _ data: Data) { ready = [origin: data] }

    func put(_ origin: Int, _ item: Data) {
        condition.lock(); ready[origin] = item; condition.broadcast(); condition.unlock()
    }

    /// The first error wins; it wakes the sender.
    func fail(_ error: Error) {
        condition.lock(); if failure == nil { failure = error }; condition.broadcast(); condition.unlock()
    }

    var error: Error? { condition.lock(); defer { condition.unlock() }; return failure }

    /// Waits for the item of `origin`; nil once an error ended the all-gather.
    func waitForItem(_ origin: Int) -> Data? {
        condition.lock()
        defer { condition.unlock() }
        while ready[origin] == nil && failure == nil { condition.wait() }
        return failure == nil ? ready[origin] : nil
    }
}
