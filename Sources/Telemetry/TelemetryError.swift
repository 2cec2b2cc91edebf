/// A failure to write an observability file (TensorBoard events, a timeline); names the file.
public struct TelemetryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
