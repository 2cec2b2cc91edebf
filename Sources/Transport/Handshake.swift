// The connection handshake: magic, version, ranks, and a mutual HMAC-SHA256 challenge over
// the cluster token. Byte layout in docs/wire-format.md. Nothing but the handshake is read
// from a peer until it has proved it holds the token.
import Crypto
import Foundation

public enum Handshake {
    public static let magic: [UInt8] = Array("RTRN".utf8)
    public static let version: UInt16 = 2
    static let helloSize = 48
    static let replySize = 80
    static let proofSize = 32
    static let accept: [UInt8] = Array("RTOK".utf8)
    /// Sent instead of `accept` when the proof does not match: the client then knows it was
    /// refused, not merely cut off (a busy listener drops pending strangers to make room).
    static let refusal: [UInt8] = Array("RTNO".utf8)
    static let roleHello: UInt16 = 1
    static let roleReply: UInt16 = 2

    static func message(rank: Int, worldSize: Int, role: UInt16, nonce: [UInt8]) -> [UInt8] {
        var m = magic
        withUnsafeBytes(of: version.littleEndian) { m += $0 }
        withUnsafeBytes(of: role.littleEndian) { m += $0 }
        withUnsafeBytes(of: UInt32(rank).littleEndian) { m += $0 }
        withUnsafeBytes(of: UInt32(worldSize).littleEndian) { m += $0 }
        return m + nonce
    }

    struct Fields { var role: UInt16; var rank: Int; var worldSize: Int; var nonce: [UInt8] }

    static func parse(_ b: [UInt8], conn: TCPConnection) throws -> Fields {
        let m = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        guard Array(b[0..<4]) == magic else { throw conn.error(.badMagic(m)) }
        let v = UInt16(b[4]) | UInt16(b[5]) << 8
        guard v == version else { throw conn.error(.badVersion(v)) }
        func u32(_ o: Int) -> Int { Int(UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24) }
        return Fields(role: UInt16(b[6]) | UInt16(b[7]) << 8, rank: u32(8), worldSize: u32(12), nonce: Array(b[16..<48]))
    }

    static func mac(_ label: String, _ parts: [UInt8]..., key: SymmetricKey) -> [UInt8] {
        var h = HMAC<SHA256>(key: key)
        h.update(data: Array(label.utf8))
        for p in parts { h.update(data: p) }
        return Array(h.finalize())
    }

    static func verify(_ label: String, _ code: [UInt8], _ parts: [UInt8]..., key: SymmetricKey) -> Bool {
        var data = Array(label.utf8)
        for p in parts { data += p }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: data, using: key)
    }

    static func nonce() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    static func read(_ conn: TCPConnection, _ n: Int, _ deadline: Deadline, _ what: String) throws -> [UInt8] {
        var b = [UInt8](repeating: 0, count: n)
        try b.withUnsafeMutableBytes { try conn.readExactly($0.baseAddress!, n, deadline: deadline, operation: "handshake: \(what)") }
        return b
    }

    static func write(_ conn: TCPConnection, _ b: [UInt8], _ deadline: Deadline, _ what: String) throws {
        try b.withUnsafeBytes { try conn.writeAll([$0], deadline: deadline, operation: "handshake: \(what)") }
    }

    /// Client side (we connected). Returns the peer's rank; throws if the peer lacks the token
    /// or refuses ours.
    public static func client(_ conn: TCPConnection, rank: Int, worldSize: Int, token: [UInt8], timeout: Double) throws -> Int {
        let deadline = Deadline(seconds: timeout)
        let key = SymmetricKey(data: token)
        let hello = message(rank: rank, worldSize: worldSize, role: roleHello, nonce: nonce())
        try write(conn, hello, deadline, "send hello")
        let reply = try read(conn, replySize, deadline, "receive challenge")
        let f = try parse(reply, conn: conn)
        guard f.role == roleReply else { throw conn.error(.protocolError("handshake reply has role \(f.role)")) }
        guard verify("ringtrain-v1 server", Array(reply[48..<80]), hello, Array(reply[0..<48]), key: key) else {
            throw conn.error(.authenticationFailed("the listener's proof does not match our cluster token (one side has the wrong token)"))
        }
        try write(conn, mac("ringtrain-v1 client", hello, reply, key: key), deadline, "send proof")
        // End of stream here means cut off (a listener busy with strangers): worth another try.
        let ok = try read(conn, 4, deadline, "receive acceptance")
        if ok == refusal {
            throw conn.error(.authenticationFailed("refused by the peer (wrong cluster token or another world size?)"))
        }
        guard ok == accept else { throw conn.error(.protocolError("bad acceptance bytes \(ok)")) }
        guard f.worldSize == worldSize || f.worldSize == 0 || worldSize == 0 else { throw conn.error(.protocolError("peer has world size \(f.worldSize), we have \(worldSize)")) }
        conn.peerRank = f.rank
        return f.rank
    }

    /// Server side (we accepted). Returns the peer's rank after it proved the token.
    /// Anything else closes the connection and throws an error naming the peer's address;
    /// the caller logs it (through its `RefusalLog`, so a flood of strangers stays one line).
    public static func server(_ conn: TCPConnection, rank: Int, worldSize: Int, token: [UInt8], timeout: Double) throws -> Int {
        do {
            let deadline = Deadline(seconds: timeout)
            let key = SymmetricKey(data: token)
            let hello = try read(conn, helloSize, deadline, "receive hello")
            let f = try parse(hello, conn: conn)
            guard f.role == roleHello else { throw conn.error(.protocolError("hello has role \(f.role)")) }
            var reply = message(rank: rank, worldSize: worldSize, role: roleReply, nonce: nonce())
            reply += mac("ringtrain-v1 server", hello, reply, key: key)
            try write(conn, reply, deadline, "send challenge")
            let proof = try read(conn, proofSize, deadline, "receive proof")
            guard verify("ringtrain-v1 client", proof, hello, reply, key: key) else {
                try? write(conn, refusal, deadline, "send refusal")
                throw conn.error(.authenticationFailed("peer does not hold the cluster token"))
            }
            guard f.worldSize == worldSize || f.worldSize == 0 || worldSize == 0 else {
                try? write(conn, refusal, deadline, "send refusal")
                throw conn.error(.protocolError("peer has world size \(f.worldSize), we have \(worldSize)"))
            }
            try write(conn, accept, deadline, "send acceptance")
            conn.peerRank = f.rank
            return f.rank
        } catch {
            conn.close()
            throw error
        }
    }

    /// Connects to `address` and runs the client side, trying again until `deadline` seconds
    /// have passed when the attempt fails on the way (refused, reset, closed or silent: a
    /// listener busy with strangers, which may evict us). Proof that the peer holds another
    /// token, or a refusal of our proof, is final. Returns the connection and the peer's rank.
    public static func connect(_ address: String, rank: Int, worldSize: Int, token: [UInt8], options: TCPOptions,
                               deadline seconds: Double, cancel: FormationCancel? = nil) throws -> (TCPConnection, Int) {
        let deadline = Deadline(seconds: seconds)
        while true {
            let left = max(0.05, Double(deadline.remainingMillis) / 1000)
            let conn = try tcpConnect(address, options: options, deadline: left, cancel: cancel)
            cancel?.onCancel { conn.shutdown() }
            do {
                if cancel?.isCancelled == true { throw conn.error(.protocolError("cancelled")) }
                let peer = try client(conn, rank: rank, worldSize: worldSize, token: token, timeout: min(options.handshakeTimeout, left))
                return (conn, peer)
            } catch let e as TransportError {
                conn.close()
                switch e.kind {
                case .authenticationFailed, .protocolError, .badMagic, .badVersion: throw e
                default: if deadline.passed || cancel?.isCancelled == true { throw e }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}
