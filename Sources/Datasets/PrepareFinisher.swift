import Crypto
import Foundation

/// The last steps of a prepare: per split the index and records files in plan order, the
/// training split's statistics, report.json, and manifest.json last (its rename is the
/// moment the dataset exists). Shards no record points at any more are removed after that.
struct PrepareFinisher {
    let directory: String
    let plan: PreparePlan
    let state: PreparationState

    func finish() throws -> (PreparedManifest, PrepareReport) {
        let settings = plan.settings
        let classes = plan.folder.classNames.count
        var splits: [String: PreparedManifest.Split] = [:]
        var ordered: [DatasetSplit: [PreparedRecord]] = [:]
        for split in DatasetSplit.allCases {
            let records = (plan.files[split] ?? []).compactMap { state.records[split]?[$0.relativePath] }
            // A split the folder does not have is left out; the test split is always there
            // (possibly empty: a folder whose classes are too small to hold any out).
            guard !records.isEmpty || split == .test || split == .train else { continue }
            ordered[split] = records
            splits[split.rawValue] = try writeSplit(split, records: records, classes: classes)
        }
        guard let train = splits[DatasetSplit.train.rawValue], train.count > 0 else {
            throw DatasetError(file: plan.folder.root, field: "images",
                               "no image of the training split could be used (\(state.skipped.count) skipped: see \(directory)/report.json)")
        }
        let shape = PreparedManifest.ImageShape(channels: settings.channels, height: settings.height, width: settings.width)
        let normalization = try statistics(train, records: ordered[.train] ?? [], shape: shape)
        let report = makeReport(splits: splits)
        try AtomicFiles.write(try Self.encoder.encode(report), to: directory + "/report.json")
        let manifest = PreparedManifest(image: shape, classes: plan.folder.classNames, preparation: settings,
                                        splits: splits, normalization: normalization)
        try AtomicFiles.write(try Self.encoder.encode(manifest), to: directory + "/" + PreparedFormat.manifestName)
        removeUnreferencedShards(splits)
        return (manifest, report)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Writes SPLIT.index and SPLIT.records.jsonl; returns the split's manifest entry. Shards
    /// are renumbered densely (0, 1, ...) in the index, in the order of their numbers.
    func writeSplit(_ split: DatasetSplit, records: [PreparedRecord], classes: Int) throws -> PreparedManifest.Split {
        let numbers = Set(records.map(\.shard)).sorted()
        let dense = Dictionary(uniqueKeysWithValues: numbers.enumerated().map { ($1, $0) })
        let shards = try numbers.map { n -> PreparedManifest.Shard in
            guard let s = state.shards[split]?[n] else {
                throw DatasetError(file: directory, field: "\(split.rawValue) shard \(n)", "is named by a record but was never written")
            }
            return s
        }
        var index = PreparedFormat.indexHeader(records: records.count)
        index.reserveCapacity(index.count + records.count * PreparedFormat.indexEntryBytes)
        var lines = [UInt8]()
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var counts = [Int](repeating: 0, count: classes)
        for var r in records {
            r.shard = dense[r.shard]!
            index += PreparedFormat.le32(r.shard) + PreparedFormat.le32(r.slot) + PreparedFormat.le32(Int(r.label))
            lines += try lineEncoder.encode(r)
            lines.append(UInt8(ascii: "\n"))
            counts[Int(r.label)] += 1
        }
        let indexName = "\(split.rawValue).index", recordsName = "\(split.rawValue).records.jsonl"
        try AtomicFiles.write(index, to: directory + "/" + indexName)
        try AtomicFiles.write(lines, to: directory + "/" + recordsName)
        return PreparedManifest.Split(
            count: records.count, classCounts: counts,
            index: .init(file: indexName, bytes: index.count, sha256: SHA256.hash(data: index).hexString),
            records: .init(file: recordsName, bytes: lines.count, sha256: SHA256.hash(data: lines).hexString),
            shards: shards)
    }

    /// Mean and std per channel of the training records, read through a mapping one record at
    /// a time (pages handed back as it goes).
    func statistics(_ split: PreparedManifest.Split, records: [PreparedRecord], shape: PreparedManifest.ImageShape) throws -> PreparedManifest.Normalization {
        let stores = try split.shards.map { try PreparedDataset.mapShard(directory: directory, $0, shape: shape, verify: false) }
        let numbers = Set(records.map(\.shard)).sorted()
        let dense = Dictionary(uniqueKeysWithValues: numbers.enumerated().map { ($1, $0) })
        let images = LabeledImages(channels: shape.channels, height: shape.height, width: shape.width,
                                   classCount: plan.folder.classNames.count, labels: records.map(\.label), stores: stores,
                                   locations: records.map { .init(store: UInt32(dense[$0.shard]!), slot: UInt32($0.slot)) })
        let stats = DatasetStatistics(images)
        return .init(mean: stats.mean, std: stats.std)
    }

    func makeReport(splits: [String: PreparedManifest.Split]) -> PrepareReport {
        let folder = plan.folder
        let order: [String: Int] = Dictionary(uniqueKeysWithValues: folder.files.enumerated().map { ($1.relativePath, $0) })
        return PrepareReport(
            scan: .init(imageFiles: folder.files.count, hiddenFiles: folder.hiddenCount,
                        nonImageFiles: folder.nonImageFiles, emptyClassFolders: folder.emptyClassFolders),
            skipped: state.skipped.values.sorted { (order[$0.path] ?? 0) < (order[$1.path] ?? 0) },
            duplicates: state.duplicates.sorted { (order[$0.duplicate] ?? 0, $0.kept) < (order[$1.duplicate] ?? 0, $1.kept) },
            counts: splits.mapValues(\.count), classCounts: splits.mapValues(\.classCounts))
    }

    func removeUnreferencedShards(_ splits: [String: PreparedManifest.Split]) {
        let referenced = Set(splits.values.flatMap { $0.shards.map(\.file) })
        let shardDir = directory + "/shards"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: shardDir)) ?? []
        where name.hasSuffix(".rtshard") && !referenced.contains("shards/" + name) {
            try? FileManager.default.removeItem(atPath: shardDir + "/" + name)
        }
    }
}
