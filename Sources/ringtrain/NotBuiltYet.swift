import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Says plainly that a subcommand of the contract is not implemented yet and exits 2
/// (bad usage), so scripts can tell "not built" from "failed".
func notBuiltYet(_ command: String, issue: Int) throws -> Never {
    let message = "ringtrain \(command): not built yet (tracked in issue #\(issue)); nothing was run.\n"
    fputs(message, stderr)
    throw ExitCode(2)
}
