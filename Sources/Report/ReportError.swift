/// Why a report could not be rendered. Every case names the path it is about, so the
/// command line can print it as is.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// The run directory itself does not exist (or is not a directory).
    case missingRunDirectory(path: String)
    /// A file the report needs (`metrics.jsonl`) does not exist.
    case missingFile(path: String)
    /// A file exists but could not be read (permissions, a directory in its place).
    case unreadableFile(path: String)

    public var path: String {
        switch self {
        case .missingRunDirectory(let path), .missingFile(let path), .unreadableFile(let path): return path
        }
    }

    public var description: String {
        switch self {
        case .missingRunDirectory(let path): return "\(path): no such run directory"
        case .missingFile(let path): return "\(path): no such file (is this a run directory?)"
        case .unreadableFile(let path): return "\(path): cannot be read"
        }
    }
}
