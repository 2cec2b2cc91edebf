import Collectives
import Foundation
import Transport

/// A control connection: authenticated by the same handshake as the ring, then one JSON
/// `ControlMessage` per frame. Control frames are small; the hard maximum is 16 MiB.
public final class ControlChannel: @unchecked Sendable {
    public static let maxFrameBytes = 16 << 20

    public let connection: TCPConnection
    private let sendLock = NSLock()
    private let buffer = FrameBuffer(capacity: 64 << 10)

    public init(connection: TCPConnection) {
        self.connection = connection
    }

    public var peer: String { connection.peer }

    public func send(_ message: ControlMessage, timeout: Double = 30) throws {
        let data = try JSONEncoder().encode(message)
        sendLock.lock(); defer { sendLock.unlock() }
        try data.withUnsafeBytes { body in
            try connection.sendFrame(head: UnsafeRawBufferPointer(start: nil, count: 0), body: body,
                                     timeout: timeout, maxFrameBytes: Self.maxFrameBytes)
        }
    }

    /// The next message; a deadline, end-of-stream or bad JSON throws an error naming the peer.
    public func receive(timeout: Double) throws -> ControlMessage {
        try connection.receiveFrame(into: buffer, timeout: timeout, maxFrameBytes: Self.maxFrameBytes)
        let data = Data(bytes: buffer.pointer, count: buffer.count)
        do {
            return try JSONDecoder().decode(ControlMessage.self, from: data)
        } catch {
            throw ClusterError("control message from \(peer) is not valid: \(error)")
        }
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
