/// A configuration value that is missing, unknown or out of range. `key` is the dotted path
/// (`schedule.warmup_steps`), so the message tells the user exactly what to fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

/// Any string is a key: lets a decoder list the keys an object really has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

enum ConfigKeys {
    /// Throws a `ConfigError` for the first key of the object being decoded that is not allowed.
    static func rejectUnknown(in decoder: Decoder, allowed: [String], section: String) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let allowedSet = Set(allowed)
        for key in all.allKeys.map(\.stringValue).sorted() where !allowedSet.contains(key) {
            throw ConfigError(key: "\(section).\(key)",
                              message: "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }
}
