// Codec names (what users type), wire ids (what a block header carries) and the
// configuration that selects a codec. See docs/wire-format.md for the bytes.

/// The codec a communicator is configured with (`--codec`).
public enum CodecKind: String, CaseIterable, Sendable {
    /// Identity: raw little-endian float32. The reference every other codec is tested against.
    case none = "none"
    /// Lossless: a bitmap of the non-zero float32 and their exponent bytes through zstd, their
    /// mantissa bytes stored (SparsePlanes.swift).
    case zstd = "zstd"
    /// Lossy: round-to-nearest-even bfloat16, then the same split as `zstd`; rounding error fed
    /// back into the next step (see `ResidualStore`).
    case bf16Zstd = "bf16-zstd"

    public var isLossy: Bool { self == .bf16Zstd }
}

/// How one block's payload is actually encoded (the `codec` byte of a block header).
/// A codec may fall back to a stored form when compression does not pay.
public enum WireCodec: UInt8, Sendable {
    case rawF32 = 0        // 4*n bytes, float32 little-endian
    // 1 and 2 (one zstd frame over all byte planes) were retired with protocol version 2.
    case rawBF16 = 3       // 2*n bytes, bfloat16 little-endian
    case sparseF32 = 4     // sparse planes of n float32 (SparsePlanes.swift)
    case sparseBF16 = 5    // sparse planes of n bfloat16

    public var isLossy: Bool { self == .sparseBF16 || self == .rawBF16 }
}

/// Codec selection: which codec and, for the zstd ones, which level.
public struct CodecConfig: Sendable, Equatable, CustomStringConvertible {
    public var kind: CodecKind
    /// zstd level; negative levels are zstd's fast modes (-1 .. -131072). Default 1.
    public var zstdLevel: Int32

    public init(_ kind: CodecKind = .none, zstdLevel: Int32 = 1) {
        self.kind = kind
        self.zstdLevel = zstdLevel
    }

    /// Parses "none", "zstd", "zstd:-3", "bf16-zstd", "bf16-zstd:3".
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let kind = CodecKind(rawValue: first) else { return nil }
        var level: Int32 = 1
        if parts.count == 2 {
            guard let l = Int32(parts[1]), kind != .none else { return nil }
            level = l
        }
        self.init(kind, zstdLevel: level)
    }

    public var description: String {
        kind == .none ? "none" : "\(kind.rawValue):\(zstdLevel)"
    }

    /// Whether a block of this wire form may arrive on a ring configured with this codec.
    public func accepts(_ wire: WireCodec) -> Bool {
        switch kind {
        case .none: return wire == .rawF32
        case .zstd: return wire == .rawF32 || wire == .sparseF32
        case .bf16Zstd: return wire == .sparseBF16 || wire == .rawBF16
        }
    }

    /// A fresh codec instance (holds compression contexts and scratch; one per thread).
    public func makeCodec() -> BlockCodec {
        switch kind {
        case .none: return IdentityCodec()
        case .zstd: return ZstdCodec(level: zstdLevel)
        case .bf16Zstd: return BF16ZstdCodec(level: zstdLevel)
        }
    }
}
