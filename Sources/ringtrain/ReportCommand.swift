import ArgumentParser
import Foundation
import Report

/// `ringtrain report RUN_DIR [--out FILE]`: one self-contained HTML page (inline SVG charts,
/// no scripts, nothing fetched) from a run directory's metrics.jsonl and summary.json.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run directory as one self-contained HTML page (charts, confusion matrix, config).",
        discussion: """
        Reads RUN_DIR/metrics.jsonl and, when the run has finished, RUN_DIR/summary.json; works \
        on a run in progress too. Shows loss, accuracy and learning rate against steps and epochs, \
        images/s per worker, time per step in compute, wait and encode, all-reduce bytes and the \
        compression ratio, the confusion matrix with the per-class table, the resolved config and \
        the checkpoints. Skipped metrics lines are reported on stderr. See docs/report.md.
        """)

    @Argument(help: "The run directory (holds metrics.jsonl).") var runDirectory: String
    @Option(help: "Where to write the page (default: RUN_DIR/report.html).") var out: String?

    func run() throws {
        let (html, warnings) = try exitingOnBadInput { try ReportRenderer.render(runDirectory: runDirectory) }
        for warning in warnings { printError("warning: \(warning)") }
        let path = out ?? URL(fileURLWithPath: runDirectory).appendingPathComponent("report.html").path
        do {
            // Atomic: a browser refreshing the page never reads half of it.
            try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            printError("error: cannot write \(path): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print(path)
    }
}
