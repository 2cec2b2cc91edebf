import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an output directory already holds: the records of its manifest (a finished prepare)
/// and of its journal (shards an interrupted prepare had published), and the files earlier
/// runs skipped. A re-run keeps every record whose source is unchanged (same split, label,
/// size and modification time), decodes only the rest, and writes new shards next to the old.
struct PreparationState {
    /// The shards of each split, indexed by shard number.
    var shards: [DatasetSplit: [Int: PreparedManifest.Shard]] = [:]
    /// Records by split and relative path.
    var records: [DatasetSplit: [String: PreparedRecord]] = [:]
    /// Skipped files by relative path.
    var skipped: [String: PrepareReport.Skipped] = [:]
    var duplicates: [PrepareReport.Duplicate] = []

    static let journalName = ".prepare-journal.jsonl"

    /// One published shard and its records, or one skipped file: a line of the journal.
    struct JournalEntry: Codable {
        var split: DatasetSplit?
        var number: Int?
        var shard: PreparedManifest.Shard?
        var records: [PreparedRecord]?
        var skipped: PrepareReport.Skipped?
        var duplicate: PrepareReport.Duplicate?
    }

    /// Reads the manifest (when its settings are `settings`) and the journal of `directory`.
    /// A manifest made with other settings is an error unless `rebuild`, which starts afresh.
    static func load(directory: String, settings: PreparationSettings, rebuild: Bool) throws -> PreparationState {
        var state = PreparationState()
        let manifestPath = directory + "/" + PreparedFormat.manifestName
        if rebuild {
            try removeContents(of: directory)
            return state
        }
        if FileManager.default.fileExists(atPath: manifestPath) {
            let manifest = try PreparedDataset.readManifest(directory: directory)
            guard manifest.preparation == settings else {
                throw DatasetError(file: manifestPath, field: "preparation",
                                   "this directory holds a dataset prepared with other settings (\(describe(manifest.preparation)); now \(describe(settings))); use another --out or --rebuild")
            }
            try state.readManifestRecords(directory: directory, manifest)
            try state.readReport(directory: directory)
        }
        try state.readJournal(directory: directory)
        return state
    }

    static func describe(_ s: PreparationSettings) -> String {
        "\(s.source), \(s.width)x\(s.height)x\(s.channels), \(s.resize.rawValue), \(s.interpolation.rawValue), test fraction \(s.testFraction), seed \(s.seed)"
    }

    /// Keys shards by the number in their file name (stable across runs; the manifest's
    /// positions are renumbered densely by each prepare) and points records at those numbers.
    mutating func readManifestRecords(directory: String, _ manifest: PreparedManifest) throws {
        for (name, split) in manifest.splits {
            guard let s = DatasetSplit(rawValue: name) else { continue }
            let path = directory + "/" + split.records.file
            var numbers: [Int] = []
            for shard in split.shards {
                guard let n = Self.shardNumber(shard.file) else {
                    throw DatasetError(file: directory + "/" + PreparedFormat.manifestName, field: "splits.\(name).shards",
                                       "'\(shard.file)' is not a shard name")
                }
                numbers.append(n)
                shards[s, default: [:]][n] = shard
            }
            for var r in try Self.readRecords(path: path) {
                guard r.shard >= 0, r.shard < numbers.count else {
                    throw DatasetError(file: path, field: r.path, "names shard \(r.shard), which the manifest does not list")
                }
                r.shard = numbers[r.shard]
                records[s, default: [:]][r.path] = r
            }
        }
    }

    /// 12 of "shards/train-00012.rtshard".
    static func shardNumber(_ file: String) -> Int? {
        guard file.hasSuffix(".rtshard"), let dash = file.lastIndex(of: "-") else { return nil }
        return Int(file[file.index(after: dash)..<file.index(file.endIndex, offsetBy: -8)])
    }

    mutating func readReport(directory: String) throws {
        let path = directory + "/report.json"
        guard let data = FileManager.default.contents(atPath: path),
              let report = try? JSONDecoder().decode(PrepareReport.self, from: data) else { return }
        for s in report.skipped { skipped[s.path] = s }
        duplicates = report.duplicates
    }

    mutating func readJournal(directory: String) throws {
        let path = directory + "/" + Self.journalName
        guard let data = FileManager.default.contents(atPath: path) else { return }
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            // A torn last line (the process died while appending) is dropped: its shard was
            // published before the line was written, and is decoded again.
            guard let entry = try? JSONDecoder().decode(JournalEntry.self, from: Data(line)) else { continue }
            if let split = entry.split, let number = entry.number, let shard = entry.shard {
                shards[split, default: [:]][number] = shard
                for r in entry.records ?? [] { records[split, default: [:]][r.path] = r }
            }
            if let s = entry.skipped { skipped[s.path] = s }
            if let d = entry.duplicate { duplicates.append(d) }
        }
    }

    static func readRecords(path: String) throws -> [PreparedRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(file: path, field: "file", "cannot be read")
        }
        let decoder = JSONDecoder()
        var out: [PreparedRecord] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            do {
                out.append(try decoder.decode(PreparedRecord.self, from: Data(line)))
            } catch {
                throw DatasetError(file: path, field: "line \(i + 1)", "is not a record: \(error)")
            }
        }
        return out
    }

    /// The next free shard number of a split.
    func nextShardNumber(_ split: DatasetSplit) -> Int { (shards[split]?.keys.max() ?? -1) + 1 }

    /// Removes what an earlier prepare made (never anything else: only our own file names).
    static func removeContents(of directory: String) throws {
        let fm = FileManager.default
        for name in [PreparedFormat.manifestName, "report.json", journalName] + DatasetSplit.allCases.flatMap({ ["\($0.rawValue).index", "\($0.rawValue).records.jsonl"] }) {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
        let shardDir = directory + "/shards"
        for name in (try? fm.contentsOfDirectory(atPath: shardDir)) ?? [] where name.hasSuffix(".rtshard") || name.contains(".rtshard.tmp-") {
            try? fm.removeItem(atPath: shardDir + "/" + name)
        }
    }

    /// Temporary shards of writers that are gone (the caller holds the directory's lock, so
    /// no live writer owns one).
    static func removeStaleTemporaries(in directory: String) {
        let fm = FileManager.default
        let shardDir = directory + "/shards"
        for name in (try? fm.contentsOfDirectory(atPath: shardDir)) ?? [] where name.contains(".rtshard.tmp-") {
            try? fm.removeItem(atPath: shardDir + "/" + name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
    }
}

/// Appends journal lines, each fsynced: after a crash, every shard the journal names is whole.
final class PreparationJournal {
    private let fd: Int32
    private let path: String
    private let encoder = JSONEncoder()

    init(directory: String) throws {
        path = directory + "/" + PreparationState.journalName
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFiles.failure(path, "open", errno) }
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { close(fd) }

    func append(_ entry: PreparationState.JournalEntry) throws {
        var line = [UInt8](try encoder.encode(entry))
        line.append(UInt8(ascii: "\n"))
        try AtomicFiles.writeAll(fd: fd, line, path: path)
        guard fsync(fd) == 0 else { throw AtomicFiles.failure(path, "fsync", errno) }
    }

    /// The prepare finished: the manifest now holds everything the journal did.
    func remove() { unlink(path) }
}
