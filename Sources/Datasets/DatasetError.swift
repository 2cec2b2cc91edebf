/// A dataset file that cannot be read, with where and why: the file, the field, the byte offset.
/// The command line prints `description` and exits 2.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let field: String
    public let offset: Int?
    public let message: String

    public init(file: String, field: String, offset: Int? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.offset = offset
        self.message = message
    }

    public var description: String {
        let place = offset.map { " at byte offset \($0)" } ?? ""
        return "\(file): \(field)\(place): \(message)"
    }
}
