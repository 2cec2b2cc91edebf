import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends fixed-size records to the shards of one split. A shard is written under a
/// temporary name and published (header with its final count, fsync, rename) when it is
/// full or the split ends; only then does `onShardClosed` hear of it, so whatever a crash
/// leaves behind is a temporary file the next prepare removes, never a shard half written.
final class ShardWriter {
    let directory: String
    let split: DatasetSplit
    let shape: PreparedManifest.ImageShape
    let recordBytes: Int
    let recordsPerShard: Int
    private var nextNumber: Int
    private var current: (number: Int, fd: Int32, temporary: String, records: Int)?
    /// SHA-256 of the open shard's records, fed as they are written (no second read).
    private var hasher = SHA256()
    /// Called with each published shard's manifest entry and its number.
    let onShardClosed: (Int, PreparedManifest.Shard) throws -> Void

    init(directory: String, split: DatasetSplit, shape: PreparedManifest.ImageShape, firstNumber: Int,
         shardBytes: Int = PreparedFormat.defaultShardBytes,
         onShardClosed: @escaping (Int, PreparedManifest.Shard) throws -> Void) {
        self.directory = directory
        self.split = split
        self.shape = shape
        recordBytes = shape.channels * shape.height * shape.width
        recordsPerShard = max(1, shardBytes / max(recordBytes, 1))
        nextNumber = firstNumber
        self.onShardClosed = onShardClosed
    }

    /// Writes one record; returns (shard number, slot).
    func append(_ record: UnsafeRawBufferPointer) throws -> (shard: Int, slot: Int) {
        precondition(record.count == recordBytes, "record of \(record.count) bytes, expected \(recordBytes)")
        if current == nil { try open() }
        let c = current!
        try AtomicFiles.writeAll(fd: c.fd, record, path: c.temporary)
        hasher.update(bufferPointer: record)
        current!.records += 1
        let slot = c.records
        if current!.records == recordsPerShard { try closeCurrent() }
        return (c.number, slot)
    }

    /// Publishes the open shard, if any.
    func finish() throws { if current != nil { try closeCurrent() } }

    private func open() throws {
        let name = PreparedFormat.shardName(split, nextNumber)
        let path = directory + "/" + name
        let temporary = AtomicFiles.temporaryName(for: path)
        let fd = Glibc.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFiles.failure(temporary, "create", errno) }
        // A placeholder header; the real one (with the count) is written when the shard closes.
        try AtomicFiles.writeAll(fd: fd, [UInt8](repeating: 0, count: PreparedFormat.shardHeaderBytes), path: temporary)
        current = (nextNumber, fd, temporary, 0)
        hasher = SHA256()
        nextNumber += 1
    }

    private func closeCurrent() throws {
        guard let c = current else { return }
        current = nil
        defer { close(c.fd) }
        let header = PreparedFormat.shardHeader(channels: shape.channels, height: shape.height, width: shape.width,
                                                records: c.records)
        let written = header.withUnsafeBytes { pwrite(c.fd, $0.baseAddress, $0.count, 0) }
        guard written == header.count else { throw AtomicFiles.failure(c.temporary, "pwrite", errno) }
        guard fsync(c.fd) == 0 else { throw AtomicFiles.failure(c.temporary, "fsync", errno) }
        let digest = hasher.finalize().hexString
        let name = PreparedFormat.shardName(split, c.number)
        try AtomicFiles.publish(c.temporary, as: directory + "/" + name)
        try onShardClosed(c.number, PreparedManifest.Shard(file: name, records: c.records,
                                                           bytes: PreparedFormat.shardHeaderBytes + c.records * recordBytes,
                                                           sha256: digest))
    }

    /// Removes a shard left open by an interrupted run (its temporary file).
    func abandon() {
        guard let c = current else { return }
        close(c.fd)
        unlink(c.temporary)
        current = nil
    }
}
