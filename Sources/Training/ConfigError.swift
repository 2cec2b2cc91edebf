/// A configuration that cannot be used, naming the key (dotted path for nested keys).
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let message: String
    public let source: String?

    public init(key: String, _ message: String, source: String? = nil) {
        self.key = key
        self.message = message
        self.source = source
    }

    /// "config key 'lr': ..." for a config key, "option --checkpoint: ..." for a command-line
    /// option (keys that start with "--").
    public var description: String {
        (source.map { "\($0): " } ?? "") + (key.hasPrefix("--") ? "option \(key): " : "config key '\(key)': ") + message
    }
}
