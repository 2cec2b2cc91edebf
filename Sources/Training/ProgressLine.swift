import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The progress line: epoch, step, loss, accuracy, images/s, learning rate, ETA. On a
/// terminal it redraws in place (carriage return + clear line); otherwise it prints a plain
/// line at most every `interval` seconds, so logs stay readable.
public final class ProgressLine {
    public let isTerminal: Bool
    private let interval: Double
    private var lastPrint: Double = 0
    private let prefix: String
    /// Where lines go instead of stderr (a worker forwards its lines to the coordinator,
    /// which shows one progress line for the job). `true` marks a progress update.
    private let sink: ((String, Bool) -> Void)?
    /// Where the text goes (stderr; a test's buffer).
    private let write: (String) -> Void
    /// A redrawn line is on screen, and whether it was forced (an epoch's last line, which a
    /// following message must not wipe).
    private var lineShown = false, shownForced = false

    public init(interval: Double, prefix: String = "", forceTerminal: Bool? = nil,
                sink: ((String, Bool) -> Void)? = nil,
                output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        isTerminal = sink == nil && (forceTerminal ?? (isatty(STDERR_FILENO) == 1))
        self.interval = interval
        self.prefix = prefix
        self.sink = sink
        self.write = output
    }

    public struct Values {
        public var epoch: Int, epochs: Int, step: Int, totalSteps: Int
        public var loss: Double, accuracy: Double, imagesPerSecond: Double, lr: Double, etaSeconds: Double
        /// The L1 term included in `loss` (nil: no L1).
        public var l1Penalty: Double?

        public init(epoch: Int, epochs: Int, step: Int, totalSteps: Int, loss: Double, accuracy: Double,
                    imagesPerSecond: Double, lr: Double, etaSeconds: Double, l1Penalty: Double? = nil) {
            self.epoch = epoch; self.epochs = epochs; self.step = step; self.totalSteps = totalSteps
            self.loss = loss; self.accuracy = accuracy; self.imagesPerSecond = imagesPerSecond
            self.lr = lr; self.etaSeconds = etaSeconds; self.l1Penalty = l1Penalty
        }
    }

    public static func format(_ v: Values) -> String {
        String(format: "epoch %d/%d  step %d/%d  loss %.4f", v.epoch + 1, v.epochs, v.step, v.totalSteps, v.loss)
            + (v.l1Penalty.map { String(format: " (incl. l1 %.4f)", $0) } ?? "")
            + String(format: "  acc %.2f%%  %.0f img/s  lr %.3g  ETA ", v.accuracy * 100, v.imagesPerSecond, v.lr)
            + formatDuration(v.etaSeconds)
    }

    public static func formatDuration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                         : String(format: "%02d:%02d", t / 60, t % 60)
    }

    /// Shows the values; `force` prints regardless of the interval (end of an epoch).
    public func update(_ v: Values, force: Bool = false) {
        let text = prefix + Self.format(v)
        if let sink {
            let now = Date().timeIntervalSince1970
            if force || now - lastPrint >= min(interval, 1) {
                sink(text, true)
                lastPrint = now
            }
            return
        }
        showRaw(text, force: force)
    }

    /// Shows an already formatted progress text (also the coordinator showing rank 0's line):
    /// redrawn in place on a terminal (at most 5 times a second), else a line per interval.
    public func showRaw(_ text: String, force: Bool = false) {
        let now = Date().timeIntervalSince1970
        if isTerminal {
            if force || now - lastPrint >= 0.2 {
                write("\r\u{1B}[2K" + text)
                lastPrint = now
                lineShown = true
                shownForced = force
            }
        } else if force || now - lastPrint >= interval {
            write(text + "\n")
            lastPrint = now
        }
    }

    /// Prints a message on its own line. A redrawn line on screen is cleared first, unless it
    /// was an epoch's last (forced) line: that one is kept and the message goes below it.
    public func message(_ text: String) {
        if let sink { sink(prefix + text, false); return }
        let lead = isTerminal && lineShown ? (shownForced ? "\n" : "\r\u{1B}[2K") : ""
        lineShown = false
        write(lead + prefix + text + "\n")
    }

    public func finish() {
        if isTerminal && lineShown { write("\n") }
        lineShown = false
    }
}
