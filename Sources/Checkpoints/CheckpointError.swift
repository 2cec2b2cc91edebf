/// Why a checkpoint could not be written, read or trusted. The description always starts with
/// the file, then the tensor or header field when there is one: `run/checkpoints/step-00000100.safetensors:
/// tensor conv1.weight: data_offsets [0, 12) span 12 bytes, but F32 [2, 3] needs 24`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// A system call failed (open, write, fsync, rename, ...): disk full, permissions, size limit.
        case io
        /// The file is shorter than its header says.
        case truncated
        /// The header is not a valid safetensors header.
        case badHeader
        /// A tensor entry is invalid (dtype, shape, offsets).
        case badTensor
        /// A SHA-256 does not match or is missing.
        case integrity
        /// The file is fine but does not match what the caller needs (missing tensor, wrong shape).
        case mismatch
        /// The caller asked for something that cannot be written (bad name, wrong value count).
        case invalidArgument
    }

    public let kind: Kind
    public let file: String
    /// The tensor (`tensor conv1.weight`) or header field (`__metadata__`), when one is to blame.
    public let field: String?
    public let message: String

    public init(_ kind: Kind, file: String, field: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field = field { return "\(file): \(field): \(message)" }
        return "\(file): \(message)"
    }
}
