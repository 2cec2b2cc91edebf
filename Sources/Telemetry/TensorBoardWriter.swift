import Foundation

/// Writes TensorBoard scalar event files (`events.out.tfevents.<time>.<host>`): TFRecord
/// framing (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload)
/// around `tensorflow.Event` protobuf messages holding `Summary.Value.simple_value`s.
/// The protobuf encoding is written by hand: four fields of two messages do not justify a
/// protobuf dependency.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates `directory` and a new event file in it (TensorBoard reads every file of a
    /// directory in name order, so a resumed run adds a file instead of rewriting one).
    public init(directory: String, now: Date = Date()) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        var name = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host)"
        var n = 1
        while FileManager.default.fileExists(atPath: directory + "/" + name) {
            n += 1
            name = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(n)"
        }
        path = directory + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw TelemetryError("cannot create TensorBoard event file \(path)")
        }
        handle = h
        var first = Protobuf()
        first.double(field: 1, now.timeIntervalSince1970)
        first.string(field: 3, "brain.Event:2")
        try write(record: first.bytes)
    }

    /// One event holding `scalars` (tag -> value) at `step`.
    public func add(scalars: [(tag: String, value: Double)], step: Int, wallTime: Date = Date()) throws {
        guard !scalars.isEmpty else { return }
        var summary = Protobuf()
        for s in scalars {
            var value = Protobuf()
            value.string(field: 1, s.tag)
            value.float(field: 2, Float(s.value))
            summary.message(field: 1, value)
        }
        var event = Protobuf()
        event.double(field: 1, wallTime.timeIntervalSince1970)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.message(field: 5, summary)
        try write(record: event.bytes)
    }

    public func close() {
        try? handle.synchronize()
        try? handle.close()
    }

    private func write(record payload: [UInt8]) throws {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 16)
        var length = UInt64(payload.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Array($0) }
        frame += lengthBytes
        appendLE(&frame, CRC32C.masked(lengthBytes))
        frame += payload
        appendLE(&frame, CRC32C.masked(payload))
        do {
            try handle.write(contentsOf: frame)
        } catch {
            throw TelemetryError("cannot write TensorBoard event file \(path): \(error.localizedDescription)")
        }
    }

    private func appendLE(_ out: inout [UInt8], _ v: UInt32) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }
}

/// The few protobuf wire-format encodings an Event needs.
struct Protobuf {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func varint(field: Int, _ v: UInt64) {
        tag(field, wireType: 0)
        varint(v)
    }

    mutating func double(field: Int, _ v: Double) {
        tag(field, wireType: 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64(i)))) }
    }

    mutating func float(field: Int, _ v: Float) {
        tag(field, wireType: 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32(i)))) }
    }

    mutating func bytes(field: Int, _ b: [UInt8]) {
        tag(field, wireType: 2)
        varint(UInt64(b.count))
        bytes += b
    }

    mutating func string(field: Int, _ s: String) { bytes(field: field, Array(s.utf8)) }

    mutating func message(field: Int, _ m: Protobuf) { bytes(field: field, m.bytes) }
}
