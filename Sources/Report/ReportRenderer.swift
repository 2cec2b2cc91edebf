import Foundation

/// `ringtrain report`'s library side: reads a run directory's `metrics.jsonl` (required)
/// and `summary.json` (absent while the run is in progress) and renders one self-contained
/// HTML page. See docs/report.md.
public enum ReportRenderer {
    /// The page, and the warnings met on the way (skipped lines, a summary that is not
    /// JSON), each naming its file. Throws `ReportError` if the directory or its
    /// `metrics.jsonl` is missing or unreadable.
    public static func render(runDirectory: String) throws -> (html: String, warnings: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportError.missingRunDirectory(path: runDirectory)
        }
        let directory = runDirectory.hasSuffix("/") && runDirectory.count > 1 ? String(runDirectory.dropLast()) : runDirectory
        var warnings: [String] = []
        let curve = LearningRateCurveFile.load(directory: directory, warnings: &warnings)
        let cv = CrossValidationFile.load(directory: directory, warnings: &warnings)
        // An lr-find or cv directory has no metrics.jsonl of its own: its page is their view.
        let metricsPath = directory + "/metrics.jsonl"
        var records = (curve != nil || cv != nil) && !FileManager.default.fileExists(atPath: metricsPath)
            ? RunRecords() : try RunRecords.load(metricsPath: metricsPath)
        records.warnings += warnings
        let summary = try RunSummary.load(path: directory + "/summary.json", warnings: &records.warnings)
        // config.json is only a fallback for runs whose summary and metrics lack the config
        // (older versions); a broken one is not worth a warning.
        let configFile = FileManager.default.contents(atPath: directory + "/config.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        var page = ReportPage(runDirectory: directory, records: records, summary: summary, configFile: configFile)
        page.lrCurve = curve
        page.cv = cv
        return (page.render(), records.warnings)
    }
}
