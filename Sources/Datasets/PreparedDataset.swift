import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A prepared dataset opened for training: the manifest read and checked, every index and
/// shard checked against it (sizes, headers, SHA-256), the shards memory-mapped.
public struct PreparedDataset: Sendable {
    public let directory: String
    public let manifest: PreparedManifest
    public let splits: [DatasetSplit: LabeledImages]

    public static func isPrepared(directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + PreparedFormat.manifestName)
    }

    /// Opens `directory`. Every problem names the file: a truncated shard, a hash that does not
    /// match, an index entry outside its shard, a label outside the class list.
    /// `verifyHashes: false` skips the SHA-256 pass (sizes and headers are still checked).
    public static func open(directory: String, verifyHashes: Bool = true) throws -> PreparedDataset {
        let manifest = try readManifest(directory: directory)
        let shape = manifest.image
        var splits: [DatasetSplit: LabeledImages] = [:]
        for (name, entry) in manifest.splits {
            guard let split = DatasetSplit(rawValue: name) else {
                throw DatasetError(file: directory + "/" + PreparedFormat.manifestName, field: "splits.\(name)",
                                   "unknown split (known: \(DatasetSplit.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let stores = try entry.shards.map { try mapShard(directory: directory, $0, shape: shape, verify: verifyHashes) }
            let (labels, locations) = try readIndex(directory: directory, entry, shards: entry.shards,
                                                    classes: manifest.classes.count, verify: verifyHashes)
            splits[split] = LabeledImages(channels: shape.channels, height: shape.height, width: shape.width,
                                          classCount: manifest.classes.count, labels: labels,
                                          stores: stores.isEmpty ? [PixelStorage(copying: [])] : stores,
                                          locations: locations)
        }
        return PreparedDataset(directory: directory, manifest: manifest, splits: splits)
    }

    /// As a `Dataset`: train, validation (if the source had one) and test.
    public func dataset(format: Dataset.Format, source: String) throws -> Dataset {
        guard let train = splits[.train], train.count > 0 else {
            throw DatasetError(file: directory + "/" + PreparedFormat.manifestName, field: "splits.train", "is missing or empty")
        }
        guard let test = splits[.test] else {
            throw DatasetError(file: directory + "/" + PreparedFormat.manifestName, field: "splits.test", "is missing")
        }
        return Dataset(directory: source, format: format, train: train, validation: splits[.validation], test: test,
                       classNames: manifest.classes,
                       normalization: (manifest.normalization.mean, manifest.normalization.std),
                       preparedDirectory: directory, preparation: manifest.preparation.imagePreparation)
    }

    static func readManifest(directory: String) throws -> PreparedManifest {
        let path = directory + "/" + PreparedFormat.manifestName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(file: path, field: "file", "cannot be read")
        }
        let manifest: PreparedManifest
        do {
            manifest = try JSONDecoder().decode(PreparedManifest.self, from: data)
        } catch {
            throw DatasetError(file: path, field: "manifest", "is not a prepared-dataset manifest: \(error)")
        }
        guard manifest.format == PreparedFormat.formatName else {
            throw DatasetError(file: path, field: "format", "is '\(manifest.format)', expected '\(PreparedFormat.formatName)'")
        }
        guard manifest.version == PreparedFormat.version else {
            throw DatasetError(file: path, field: "version", "is \(manifest.version); this build reads version \(PreparedFormat.version)")
        }
        let s = manifest.image
        guard (1...4).contains(s.channels), (1...65_536).contains(s.height), (1...65_536).contains(s.width),
              s.layout == "CHW", s.dtype == "uint8" else {
            throw DatasetError(file: path, field: "image", "unsupported record shape \(s.channels)x\(s.height)x\(s.width) \(s.layout) \(s.dtype)")
        }
        guard !manifest.classes.isEmpty, manifest.classes.count <= Int(Int32.max) else {
            throw DatasetError(file: path, field: "classes", "must name at least one class")
        }
        return manifest
    }

    /// Checks one shard's size, header and (optionally) hash, then maps its records.
    static func mapShard(directory: String, _ shard: PreparedManifest.Shard, shape: PreparedManifest.ImageShape,
                         verify: Bool) throws -> PixelStorage {
        let path = directory + "/" + shard.file
        let recordBytes = shape.channels * shape.height * shape.width
        let (product, overflow) = shard.records.multipliedReportingOverflow(by: recordBytes)
        guard shard.records >= 0, !overflow, product <= Int.max - PreparedFormat.shardHeaderBytes,
              shard.bytes == PreparedFormat.shardHeaderBytes + product else {
            throw DatasetError(file: path, field: "records", "manifest says \(shard.records) records in \(shard.bytes) bytes, which does not fit \(recordBytes)-byte records")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError(file: path, field: "file", "cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DatasetError(file: path, field: "file", "cannot be inspected") }
        guard Int(st.st_size) == shard.bytes else {
            throw DatasetError(file: path, field: "size", "is \(st.st_size) bytes, the manifest says \(shard.bytes): the shard is truncated or was changed")
        }
        let header = try readPrefix(fd: fd, count: PreparedFormat.shardHeaderBytes, path: path)
        let expected = PreparedFormat.shardHeader(channels: shape.channels, height: shape.height, width: shape.width, records: shard.records)
        guard header == expected else {
            throw DatasetError(file: path, field: "header", offset: 0, "does not match the manifest (magic, version, shape or record count)")
        }
        if verify {
            // The hash covers the records; the header was compared byte for byte above.
            let digest = try FileHash.sha256(fd: fd, path: path, from: PreparedFormat.shardHeaderBytes)
            guard digest == shard.sha256 else {
                throw DatasetError(file: path, field: "sha256", "is \(digest), the manifest says \(shard.sha256): the shard was changed or damaged")
            }
        }
        return try PixelStorage(mapping: fd, offset: PreparedFormat.shardHeaderBytes, length: product, path: path)
    }

    /// Reads SPLIT.index: labels and record locations, each checked against the shards.
    static func readIndex(directory: String, _ split: PreparedManifest.Split, shards: [PreparedManifest.Shard],
                          classes: Int, verify: Bool) throws -> ([Int32], [LabeledImages.RecordLocation]) {
        let path = directory + "/" + split.index.file
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(file: path, field: "file", "cannot be read")
        }
        guard data.count == split.index.bytes else {
            throw DatasetError(file: path, field: "size", "is \(data.count) bytes, the manifest says \(split.index.bytes)")
        }
        if verify {
            let digest = SHA256.hash(data: data).hexString
            guard digest == split.index.sha256 else {
                throw DatasetError(file: path, field: "sha256", "is \(digest), the manifest says \(split.index.sha256)")
            }
        }
        let (entriesBytes, overflow) = split.count.multipliedReportingOverflow(by: PreparedFormat.indexEntryBytes)
        guard split.count >= 0, !overflow, data.count == PreparedFormat.indexHeaderBytes + entriesBytes else {
            throw DatasetError(file: path, field: "record count", "\(split.count) records do not fit \(data.count) bytes")
        }
        return try data.withUnsafeBytes { b -> ([Int32], [LabeledImages.RecordLocation]) in
            guard Array(b[0..<8]) == PreparedFormat.indexMagic, PreparedFormat.readLE32(b, 8) == PreparedFormat.version,
                  PreparedFormat.readLE32(b, 12) == PreparedFormat.indexEntryBytes,
                  PreparedFormat.readLE64(b, 16) == UInt64(split.count) else {
                throw DatasetError(file: path, field: "header", offset: 0, "does not match the manifest (magic, version, entry size or count)")
            }
            var labels = [Int32](), locations = [LabeledImages.RecordLocation]()
            labels.reserveCapacity(split.count)
            locations.reserveCapacity(split.count)
            for i in 0..<split.count {
                let at = PreparedFormat.indexHeaderBytes + i * PreparedFormat.indexEntryBytes
                let shard = PreparedFormat.readLE32(b, at), slot = PreparedFormat.readLE32(b, at + 4)
                let label = Int32(bitPattern: PreparedFormat.readLE32(b, at + 8))
                guard Int(shard) < shards.count, Int(slot) < shards[Int(shard)].records else {
                    throw DatasetError(file: path, field: "entry \(i)", offset: at, "points at shard \(shard) slot \(slot), which does not exist")
                }
                guard label >= 0, Int(label) < classes else {
                    throw DatasetError(file: path, field: "label of entry \(i)", offset: at + 8, "label \(label) is out of range 0..<\(classes)")
                }
                labels.append(label)
                locations.append(.init(store: shard, slot: slot))
            }
            return (labels, locations)
        }
    }

    static func readPrefix(fd: Int32, count: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        guard n == count else { throw DatasetError(file: path, field: "header", offset: 0, "is truncated") }
        return out
    }
}

/// SHA-256 of files read with read(2) in 4 MiB pieces, never through a mapping: hashing an
/// 8 GB shard through its mapping would pull all of it into the resident set.
public enum FileHash {
    public static func sha256(fd: Int32, path: String, from start: Int = 0) throws -> String {
        var hasher = SHA256()
        let size = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var offset = off_t(start)
        while true {
            let n = pread(fd, buffer.baseAddress, size, offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError(file: path, field: "read", "failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += off_t(n)
        }
        return hasher.finalize().hexString
    }

    public static func sha256(path: String) throws -> String {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError(file: path, field: "file", "cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try sha256(fd: fd, path: path)
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

extension SHA256Digest {
    var hexString: String { Array(self).hexString }
}
