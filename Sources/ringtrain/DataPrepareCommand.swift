import ArgumentParser
import Datasets
import Foundation
import Imaging

extension ResizeMode: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}

/// `ringtrain data prepare SRC --out DIR`: decode an image folder once into a prepared dataset.
struct DataPrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Decode and resize an image folder into a prepared dataset (memory-mapped records).",
        discussion: """
        SRC is ROOT/<class>/<images>, optionally with train/, val/ (or validation/) and test/ \
        split folders holding the same class folders. Unreadable, too small, near-constant \
        and duplicate images are reported in DIR/report.json and skipped. Re-running on the \
        same folder decodes only files added or changed since; an interrupted prepare resumes.
        """)

    @Argument(help: "The image folder.")
    var source: String

    @Option(help: "Output directory (created; never inside SRC).")
    var out: String

    @Option(help: "Record size: N (square) or WxH. Default: the images' own size, when they all share one.")
    var size: String?

    @Option(help: "How images meet the record size: \(ResizeMode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var resize: ResizeMode = .centerCrop

    @Option(help: "Resampling filter (antialiased when shrinking): \(Interpolation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var interpolation: Interpolation = .bicubic

    @Option(help: "1 (grey) or 3 (RGB). Default: 1 when the images are grey, else 3.")
    var channels: Int?

    @Option(help: "Decoding threads (0: all cores).")
    var threads: Int = 0

    @Option(name: .customLong("test-fraction"), help: "Held out per class as the test split when SRC has no test/.")
    var testFraction: Double = 0.1

    @Option(help: "Seed of the test hold-out.")
    var seed: UInt64 = 1

    @Option(name: .customLong("min-size"), help: "Skip images whose shorter side is below this many pixels.")
    var minSize: Int = 8

    @Option(name: .customLong("min-sharpness"), help: "Skip images whose variance of the Laplacian (on the record) is below this.")
    var minSharpness: Double?

    @Flag(name: .customLong("keep-duplicates"), help: "Keep later exact duplicates within a split (reported either way).")
    var keepDuplicates = false

    @Flag(name: .customLong("keep-near-constant"), help: "Keep near-constant images (reported either way).")
    var keepNearConstant = false

    @Flag(help: "Exit 2 if any file could not be decoded.")
    var strict = false

    @Flag(help: "Discard what DIR holds and prepare afresh.")
    var rebuild = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    func validate() throws {
        if let size, ImageSizeArgument.parse(size) == nil {
            throw ValidationError("--size must be N or WxH (for example 64 or 320x240), got '\(size)'")
        }
        if let c = channels, c != 1 && c != 3 { throw ValidationError("--channels must be 1 or 3") }
    }

    func run() throws {
        var options = ImageFolderOptions()
        if let size, let (w, h) = ImageSizeArgument.parse(size) { options.width = w; options.height = h }
        options.channels = channels
        options.resize = resize
        options.interpolation = interpolation
        options.testFraction = testFraction
        options.seed = seed
        options.checks.minSize = minSize
        options.checks.minSharpness = minSharpness
        options.checks.skipDuplicates = !keepDuplicates
        options.checks.skipNearConstant = !keepNearConstant
        var run = PrepareRunOptions()
        run.threads = threads
        run.rebuild = rebuild
        let line = StatusLine()
        run.progress = { p in line.show(PrepareProgressText.line(p)) }
        let summary = try exitingOnBadInput {
            try DatasetPreparer.prepare(source: source, output: out, options: options, run: run)
        }
        line.finish()
        let report = summary.report
        if json {
            print(try jsonString(PrepareSummaryJSON(summary)))
        } else {
            let m = summary.manifest
            print("prepared \(summary.directory): \(m.image.width)x\(m.image.height)x\(m.image.channels), \(m.classes.count) classes")
            print(report.summaryLine)
            print(String(format: "decoded %d images in %.1f s (%.0f images/s, %d threads); %d kept from before",
                         summary.decoded, summary.seconds, Double(summary.decoded) / max(summary.seconds, 1e-9),
                         summary.threads, summary.kept))
        }
        let unreadable = report.count(of: .unreadable)
        if unreadable > 0 {
            printError("warning: \(unreadable) file\(unreadable == 1 ? "" : "s") could not be decoded (listed in \(summary.directory)/report.json)")
            if strict { throw ExitCode(2) }
        }
        if !report.leakage.isEmpty {
            printError("warning: \(report.leakage.count) image\(report.leakage.count == 1 ? " is" : "s are") in more than one split (duplicates across splits, listed in report.json)")
        }
    }
}

/// "64" or "320x240".
enum ImageSizeArgument {
    static func parse(_ text: String) -> (Int, Int)? {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ $0 != nil && $0! >= 1 && $0! <= 16_384 }) else { return nil }
        return (parts[0]!, parts.last!!)
    }
}

enum PrepareProgressText {
    static func line(_ p: PrepareProgress) -> String {
        let eta = p.etaSeconds.map { String(format: "%02d:%02d", Int($0) / 60, Int($0) % 60) } ?? "--:--"
        return String(format: "prepare: %d/%d files  %.0f images/s  ETA %@", p.done, p.total, p.imagesPerSecond, eta)
    }
}

/// A line on stderr redrawn in place on a terminal, printed every few seconds otherwise.
final class StatusLine: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(2) != 0
    private var last = Date.distantPast
    private var shown = false

    func show(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if terminal {
            FileHandle.standardError.write(("\r\u{1B}[K" + text).data(using: .utf8)!)
            shown = true
        } else if -last.timeIntervalSinceNow >= 5 {
            printError(text)
            last = Date()
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write("\n".data(using: .utf8)!) }
        shown = false
    }
}

struct PrepareSummaryJSON: Encodable {
    let directory: String
    let image_shape: [Int]
    let classes: [String]
    let counts: [String: Int]
    let class_counts: [String: [Int]]
    let skipped: [String: Int]
    let duplicates_across_splits: Int
    let decoded: Int
    let kept: Int
    let seconds: Double
    let images_per_sec: Double
    let threads: Int

    init(_ s: PrepareSummary) {
        directory = s.directory
        image_shape = [s.manifest.image.channels, s.manifest.image.height, s.manifest.image.width]
        classes = s.manifest.classes
        counts = s.report.counts
        class_counts = s.report.classCounts
        skipped = Dictionary(uniqueKeysWithValues: PrepareReport.SkipKind.allCases.map { ($0.rawValue, s.report.count(of: $0)) })
        duplicates_across_splits = s.report.leakage.count
        decoded = s.decoded
        kept = s.kept
        seconds = s.seconds
        images_per_sec = Double(s.decoded) / max(s.seconds, 1e-9)
        threads = s.threads
    }
}
