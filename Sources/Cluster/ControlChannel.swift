import Collectives
import Foundation
import Transport

/// A control connection: authenticated by the same handshake as the ring, then one message
/// per frame: `u32 LE json length, JSON ControlMessage, binary attachment` (checkpoint
/// tensors travel as the attachment). The hard maximum of a frame is 1 GiB.
public final class ControlChannel: @unchecked Sendable {
    public static let maxFrameBytes = 1 << 30

    public let connection: TCPConnection
    private let sendLock = NSLock()
    private let buffer = FrameBuffer(capacity: 64 << 10)

    public init(connection: TCPConnection) {
        self.connection = connection
    }

    public var peer: String { connection.peer }

    public func send(_ message: ControlMessage, attachment: [UInt8] = [], timeout: Double = 60) throws {
        let json = try JSONEncoder().encode(message)
        var head = [UInt8](repeating: 0, count: 4)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { for i in 0..<4 { head[i] = $0[i] } }
        head.append(contentsOf: json)
        sendLock.lock(); defer { sendLock.unlock() }
        try head.withUnsafeBytes { h in
            try attachment.withUnsafeBytes { body in
                try connection.sendFrame(head: h, body: body, timeout: timeout, maxFrameBytes: Self.maxFrameBytes)
            }
        }
    }

    /// The next message and its attachment; a deadline, end-of-stream or bad JSON throws an
    /// error naming the peer.
    public func receiveWithAttachment(timeout: Double) throws -> (ControlMessage, [UInt8]) {
        try connection.receiveFrame(into: buffer, timeout: timeout, maxFrameBytes: Self.maxFrameBytes)
        let bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.count)
        guard bytes.count >= 4 else { throw ClusterError("control frame from \(peer) is \(bytes.count) bytes, too short") }
        let jsonLength = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard jsonLength <= bytes.count - 4 else {
            throw ClusterError("control frame from \(peer) claims \(jsonLength) JSON bytes in a \(bytes.count)-byte frame")
        }
        let json = Data(bytes[4..<(4 + jsonLength)])
        do {
            let message = try JSONDecoder().decode(ControlMessage.self, from: json)
            return (message, Array(bytes[(4 + jsonLength)...]))
        } catch {
            throw ClusterError("control message from \(peer) is not valid: \(error)")
        }
    }

    public func receive(timeout: Double) throws -> ControlMessage {
        try receiveWithAttachment(timeout: timeout).0
    }

    public func close() { connection.close() }
}

/// A cluster-level failure, with a message that names the host, rank or peer.
public struct ClusterError: Error, CustomStringConvertible {
    public let message: String
    /// The process exit code this failure maps to (DESIGN.md §7): 1 failed, 2 bad input,
    /// 3 a peer was lost and the run is resumable.
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
