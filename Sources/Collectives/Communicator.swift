// What the training loop talks to: collectives over the ring, or a group of one.
import Codecs
import Telemetry
import Foundation

/// Traffic counters of a communicator (for metrics.jsonl `bytes_sent` / `bytes_raw`).
public struct CommunicatorStats: Sendable, Equatable {
    /// Bytes this rank put on the wire for all-reduces (headers included).
    public var bytesSent: Int = 0
    /// What they would have been uncompressed.
    public var bytesRaw: Int = 0
    /// Seconds the communication thread spent encoding (overlaps compute).
    public var encodeSeconds: Double = 0
    public init() {}
    /// bytesRaw / bytesSent (1 when nothing was sent).
    public var compressionRatio: Double { bytesSent == 0 ? 1 : Double(bytesRaw) / Double(bytesSent) }
}

/// Collective operations of one rank. Every rank must call the same operations in the same
/// order. Errors name the rank and the peer; after an error the communicator is unusable.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }
    var codec: CodecConfig { get }
    /// Error-feedback residuals of the lossy codec (checkpoint them as `residual.<bucket>`).
    var residuals: ResidualStore { get }
    var stats: CommunicatorStats { get }
    /// Where the all-reduce records its spans (`--timeline`); disabled unless set.
    var tracer: Tracer { get set }
    /// Whether all-reduces submitted from now on compress (default true). False sends raw
    /// float32 on a lossless ring, bit-identical sums either way; `--codec auto` switches it.
    /// Lossy codecs ignore it (their rounding is part of the numerics).
    var compresses: Bool { get set }

    /// Sums `buffer` over all ranks in place (the caller divides by `worldSize`).
    /// Every rank ends with bit-identical contents.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int) throws

    /// Queues an all-reduce of `buffer` (e.g. a gradient bucket just finished by backward) and
    /// returns at once; buckets are reduced in submission order on a background thread.
    /// `buffer` must stay valid and untouched until `finishAllReduces` returns.
    func beginAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int)

    /// Waits for every queued all-reduce; throws the first error.
    func finishAllReduces() throws

    /// Returns root's `data` on every rank.
    func broadcast(_ data: Data, root: Int) throws -> Data

    /// Returns when every rank has called it.
    func barrier() throws

    /// Every rank's `data`, indexed by rank.
    func allGather(_ data: Data) throws -> [Data]

    /// Every rank's values, indexed by rank (metrics).
    func allGather(_ values: [Double]) throws -> [[Double]]

    /// Closes links; further calls throw.
    func close()
}

extension Communicator {
    public func allGather(_ values: [Double]) throws -> [[Double]] {
        var d = Data(count: values.count * 8)
        d.withUnsafeMutableBytes { p in
            for (i, v) in values.enumerated() { p.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
        }
        return try allGather(d).map { item in
            item.withUnsafeBytes { p in
                (0..<(p.count / 8)).map { Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            }
        }
    }

    /// Convenience: all-reduce of an array.
    public func allReduceSum(_ values: inout [Float], bucket: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0, bucket: bucket) }
    }
}

/// A group of one: every collective returns at once with the input unchanged.
public final class LocalCommunicator: Communicator {
    public let codec: CodecConfig
    public let residuals = ResidualStore()
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public var stats: CommunicatorStats { CommunicatorStats() }
    public var tracer: Tracer = .disabled
    public var compresses = true

    public init(codec: CodecConfig = CodecConfig()) { self.codec = codec }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int) throws {}
    public func beginAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, bucket: Int) {}
    public func finishAllReduces() throws {}
    public func broadcast(_ data: Data, root: Int) throws -> Data {
        guard root == 0 else { throw RingError("rank 0: broadcast root \(root) outside world of size 1") }
        return data
    }
    public func barrier() throws {}
    public func allGather(_ data: Data) throws -> [Data] { [data] }
    public func close() {}
}
