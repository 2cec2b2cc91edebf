import ArgumentParser

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render an HTML report of a run directory."
    )

    func run() throws {
        try notBuiltYet("report", issue: 9)
    }
}
