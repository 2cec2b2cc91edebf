import Crypto
import Foundation

/// Options of one `ringtrain data prepare` run that are not part of the dataset's identity.
public struct PrepareRunOptions: Sendable {
    /// Decoding threads (0: all cores).
    public var threads = 0
    /// Start afresh, discarding what the output directory holds.
    public var rebuild = false
    public var shardBytes = PreparedFormat.defaultShardBytes
    /// Wait for another process preparing the same directory instead of failing (the cache
    /// of a raw folder, which every process of a run on one host may reach at once).
    public var waitForLock = false
    /// Tests: stop (throw) once this many shards are journalled, as a killed prepare would.
    public var stopAfterShards: Int? = nil
    /// Called about once a second from the writing thread.
    public var progress: (@Sendable (PrepareProgress) -> Void)? = nil
    public init() {}
}

public struct PrepareProgress: Sendable {
    public var done: Int
    public var total: Int
    public var seconds: Double
    public var imagesPerSecond: Double { seconds > 0 ? Double(done) / seconds : 0 }
    public var etaSeconds: Double? { imagesPerSecond > 0 ? Double(total - done) / imagesPerSecond : nil }
}

/// What a prepare did.
public struct PrepareSummary: Sendable {
    public var directory: String
    public var manifest: PreparedManifest
    public var report: PrepareReport
    /// Images decoded in this run (0 when the folder was unchanged).
    public var decoded: Int
    /// Records carried over from an earlier run.
    public var kept: Int
    public var seconds: Double
    public var threads: Int
}

/// Decodes an image folder into a prepared dataset (docs/datasets.md): scans it, decides
/// the settings left to `auto`, keeps what an earlier run made from unchanged files, decodes
/// the rest on all cores, writes shards, indexes, the report, and the manifest last.
public enum DatasetPreparer {
    public static func prepare(source: String, output: String, options: ImageFolderOptions,
                               run: PrepareRunOptions = PrepareRunOptions()) throws -> PrepareSummary {
        let started = Date()
        let root = URL(fileURLWithPath: source).standardizedFileURL.path
        let out = URL(fileURLWithPath: output).standardizedFileURL.path
        guard out != root, !out.hasPrefix(root + "/") else {
            throw DatasetError(file: out, field: "--out", "is inside the source folder \(root); nothing is ever written into the source")
        }
        let folder = try ImageFolder.scan(root: root)
        let settings = try AutoSettings.resolve(folder: folder, options: options)
        try FileManager.default.createDirectory(atPath: out + "/shards", withIntermediateDirectories: true)
        let lock = try DirectoryLock(directory: out, wait: run.waitForLock)
        defer { withExtendedLifetime(lock) {} }
        PreparationState.removeStaleTemporaries(in: out)
        var state = try PreparationState.load(directory: out, settings: settings, rebuild: run.rebuild)
        let plan = PreparePlan(folder: folder, settings: settings)
        let threads = run.threads > 0 ? run.threads : max(ProcessInfo.processInfo.activeProcessorCount, 1)
        let journal = try PreparationJournal(directory: out)
        var writer = PrepareWriter(directory: out, settings: settings, state: state, journal: journal, shardBytes: run.shardBytes)
        writer.stopAfterShards = run.stopAfterShards
        let jobs = writer.jobs(for: plan)
        try DecodePipeline(jobs: jobs, root: root, settings: settings, threads: threads).run(
            progress: { done in run.progress?(PrepareProgress(done: done, total: jobs.count, seconds: -started.timeIntervalSinceNow)) },
            consume: { job, result in try writer.take(job, result) })
        try writer.finishShards()
        state = writer.state
        let (manifest, report) = try PrepareFinisher(directory: out, plan: plan, state: state).finish()
        journal.remove()
        return PrepareSummary(directory: out, manifest: manifest, report: report, decoded: jobs.count,
                              kept: plan.files.values.reduce(0) { $0 + $1.count } - jobs.count,
                              seconds: -started.timeIntervalSinceNow, threads: threads)
    }
}

/// One file to decode.
struct DecodeJob: Sendable {
    var file: ImageFile
}

/// Takes decoded records in plan order and writes them: duplicate checks against the
/// records already kept, shards, journal lines.
struct PrepareWriter {
    let directory: String
    let settings: PreparationSettings
    var state: PreparationState
    let journal: PreparationJournal
    let shardBytes: Int
    private var shardWriters: [DatasetSplit: ShardWriter] = [:]
    /// Records written into the open shard of each split, journalled when it closes.
    private var pending: [DatasetSplit: [PreparedRecord]] = [:]
    /// Pixel hash -> (split, path) of every record kept so far.
    private var seen: [String: (DatasetSplit, String)] = [:]

    init(directory: String, settings: PreparationSettings, state: PreparationState, journal: PreparationJournal, shardBytes: Int) {
        self.directory = directory
        self.settings = settings
        self.state = state
        self.journal = journal
        self.shardBytes = shardBytes
    }

    /// The files of the plan that must be decoded; forgets records and skips of files that
    /// changed or left the folder, and remembers the pixel hashes of the records kept.
    mutating func jobs(for plan: PreparePlan) -> [DecodeJob] {
        var jobs: [DecodeJob] = []
        var keptRecords: [DatasetSplit: [String: PreparedRecord]] = [:]
        var keptSkips: [String: PrepareReport.Skipped] = [:]
        for split in DatasetSplit.allCases {
            for file in plan.files[split] ?? [] {
                if let r = state.records[split]?[file.relativePath], r.label == file.label, r.bytes == file.byteCount,
                   r.mtimeNs == file.modifiedNanoseconds {
                    keptRecords[split, default: [:]][file.relativePath] = r
                    if seen[r.pixelsSha256] == nil { seen[r.pixelsSha256] = (split, r.path) }
                } else if let s = state.skipped[file.relativePath], s.split == split, s.bytes == file.byteCount,
                          s.mtimeNs == file.modifiedNanoseconds {
                    keptSkips[file.relativePath] = s
                } else {
                    jobs.append(DecodeJob(file: file))
                }
            }
        }
        let keptPaths = Set(keptRecords.values.flatMap(\.keys)).union(keptSkips.keys)
        state.records = keptRecords
        state.skipped = keptSkips
        state.duplicates = state.duplicates.filter { keptPaths.contains($0.kept) && keptPaths.contains($0.duplicate) }
        return jobs
    }

    mutating func take(_ job: DecodeJob, _ result: Result<MadeRecord, RecordSkip>) throws {
        let file = job.file
        switch result {
        case .failure(let skip):
            try skipFile(file, skip.kind, skip.reason)
        case .success(let made):
            if let (otherSplit, otherPath) = seen[made.pixelsSha256] {
                let crosses = otherSplit != file.split
                let duplicate = PrepareReport.Duplicate(kept: otherPath, duplicate: file.relativePath, crossesSplits: crosses)
                state.duplicates.append(duplicate)
                try journal.append(.init(duplicate: duplicate))
                if !crosses && settings.checks.skipDuplicates {
                    try skipFile(file, .duplicate, "same pixels as \(otherPath)")
                    return
                }
            } else {
                seen[made.pixelsSha256] = (file.split, file.relativePath)
            }
            let writer = shardWriter(file.split)
            let (shard, slot) = try made.record.withUnsafeBytes { try writer.append($0) }
            pending[file.split, default: []].append(PreparedRecord(
                path: file.relativePath, label: file.label, bytes: file.byteCount, mtimeNs: file.modifiedNanoseconds,
                sha256: made.fileSha256, pixelsSha256: made.pixelsSha256, shard: shard, slot: slot))
        }
        try journalClosedShards()
    }

    mutating func finishShards() throws {
        for w in shardWriters.values { try w.finish() }
        try journalClosedShards()
    }

    private mutating func skipFile(_ file: ImageFile, _ kind: PrepareReport.SkipKind, _ reason: String) throws {
        let s = PrepareReport.Skipped(path: file.relativePath, split: file.split, kind: kind, reason: reason,
                                      bytes: file.byteCount, mtimeNs: file.modifiedNanoseconds)
        state.skipped[file.relativePath] = s
        try journal.append(.init(skipped: s))
    }

    private mutating func shardWriter(_ split: DatasetSplit) -> ShardWriter {
        if let w = shardWriters[split] { return w }
        let shape = PreparedManifest.ImageShape(channels: settings.channels, height: settings.height, width: settings.width)
        let box = ClosedShards()
        let w = ShardWriter(directory: directory, split: split, shape: shape, firstNumber: state.nextShardNumber(split),
                            shardBytes: shardBytes) { number, shard in box.items.append((split, number, shard)) }
        closedBoxes[split] = box
        shardWriters[split] = w
        return w
    }

    private var closedBoxes: [DatasetSplit: ClosedShards] = [:]
    var stopAfterShards: Int? = nil
    private var journalled = 0

    /// Journals each shard published since the last call, with the records it holds.
    private mutating func journalClosedShards() throws {
        for (split, box) in closedBoxes where !box.items.isEmpty {
            for (_, number, shard) in box.items {
                let records = pending[split, default: []].filter { $0.shard == number }
                pending[split] = pending[split]?.filter { $0.shard != number }
                try journal.append(.init(split: split, number: number, shard: shard, records: records))
                state.shards[split, default: [:]][number] = shard
                for r in records { state.records[split, default: [:]][r.path] = r }
                journalled += 1
                if let stop = stopAfterShards, journalled >= stop {
                    throw DatasetError(file: directory, field: "prepare", "stopped after \(journalled) shards (test)")
                }
            }
            box.items.removeAll()
        }
    }
}

/// Shards a ShardWriter has published, collected by its callback.
final class ClosedShards {
    var items: [(DatasetSplit, Int, PreparedManifest.Shard)] = []
}
