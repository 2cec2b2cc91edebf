import Crypto
import Foundation

/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON header padded with spaces to a multiple of 8, then the data
/// section. RingTrain writes only F32 tensors, sorted by name, contiguous from offset 0.
///
/// Integrity (see docs/checkpoint-format.md): the writer adds two `__metadata__` entries,
/// - `ringtrain.data_sha256`: SHA-256 (lowercase hex) of the whole data section;
/// - `ringtrain.header_sha256`: SHA-256 of the N header bytes as written, with this entry's own
///   64 hex digits replaced by 64 '0' characters (so a flipped byte anywhere in the header,
///   padding included, is caught; the header checksum covers the data checksum).
public struct SafeTensorsFile: Sendable {
    public static let dataChecksumKey = "ringtrain.data_sha256"
    public static let headerChecksumKey = "ringtrain.header_sha256"
    /// The training state JSON (DESIGN.md §6) supplied by the caller.
    public static let stateKey = "ringtrain.state"
    /// Header size limit, as in the reference implementation (100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// Where the file came from, for messages (`<memory>` for bytes that never touched a disk).
    public let path: String
    /// `__metadata__`, checksums included.
    public let metadata: [String: String]
    /// The tensors, in data-section order.
    public let tensors: [SafeTensor]

    /// How strictly `parse` checks the checksums.
    public enum IntegrityCheck: Sendable {
        /// Both checksums must be present and match (RingTrain's own checkpoints).
        case required
        /// Check them when present; a file written by another tool has none (`--init-from` a
        /// PyTorch export).
        case ifPresent
        /// Do not check them: only for showing what a damaged file still holds (`inspect`).
        case skip
    }

    public func tensor(named name: String) -> SafeTensor? { tensors.first { $0.name == name } }

    /// `(shape, values)` of a tensor: the lookup `Optimizer.loadState` takes.
    public func lookup(_ name: String) -> (shape: [Int], values: [Float])? {
        tensor(named: name).map { ($0.shape, $0.values) }
    }

    /// `__metadata__["ringtrain.state"]`.
    public var state: String? { metadata[SafeTensorsFile.stateKey] }

    // MARK: - Writing

    /// The bytes of a safetensors file holding `tensors` (sorted by name) and `metadata` plus the
    /// two checksums. Throws `.invalidArgument` for an empty, duplicate or reserved name, a
    /// negative dimension, a value count that does not match the shape, or a metadata key that
    /// is reserved for the checksums.
    public static func encode(tensors: [SafeTensor], metadata: [String: String], path: String = "<memory>") throws -> [UInt8] {
        for key in [dataChecksumKey, headerChecksumKey] where metadata[key] != nil {
            throw CheckpointError(.invalidArgument, file: path, field: "__metadata__", "\(key) is reserved for the writer")
        }
        let sorted = tensors.sorted { $0.name < $1.name }
        var seen = Set<String>()
        for t in sorted {
            if t.name.isEmpty || t.name == "__metadata__" {
                throw CheckpointError(.invalidArgument, file: path, field: "tensor \(t.name)", "not a usable tensor name")
            }
            if !seen.insert(t.name).inserted {
                throw CheckpointError(.invalidArgument, file: path, field: "tensor \(t.name)", "appears twice")
            }
            if t.shape.contains(where: { $0 < 0 }) || t.elementCount != t.values.count {
                throw CheckpointError(.invalidArgument, file: path, field: "tensor \(t.name)",
                                      "shape \(t.shape) does not fit \(t.values.count) values")
            }
        }

        // Data section.
        let dataCount = sorted.reduce(0) { $0 + $1.values.count * 4 }
        var data = [UInt8](repeating: 0, count: dataCount)
        var offsets: [(Int, Int)] = []
        data.withUnsafeMutableBytes { raw in
            var at = 0
            for t in sorted {
                let n = t.values.count * 4
                t.values.withUnsafeBytes { src in
                    if n > 0 { raw.baseAddress!.advanced(by: at).copyMemory(from: src.baseAddress!, byteCount: n) }
                }
                #if _endian(big)
                for i in stride(from: at, to: at + n, by: 4) {
                    raw.swapAt(i, i + 3); raw.swapAt(i + 1, i + 2)
                }
                #endif
                offsets.append((at, at + n))
                at += n
            }
        }

        // Header, with a placeholder for its own checksum.
        var meta = metadata
        meta[dataChecksumKey] = sha256Hex(data[...])
        meta[headerChecksumKey] = placeholder
        var json = "{\"__metadata__\":{"
        json += meta.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(meta[$0]!))" }.joined(separator: ",")
        json += "}"
        for (t, (begin, end)) in zip(sorted, offsets) {
            json += ",\(JSONText.quoted(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
            json += "\"data_offsets\":[\(begin),\(end)]}"
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        guard let at = checksumPosition(in: header) else {
            preconditionFailure("header checksum entry not found in a header this writer produced")
        }
        let digest = Array(sha256Hex(header[...]).utf8)
        header.replaceSubrange(at..<(at + 64), with: digest)

        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        out.append(contentsOf: data)
        return out
    }

    // MARK: - Reading

    /// Reads and validates a file (see `parse`).
    public static func read(path: String, integrity: IntegrityCheck = .required,
                            dtypes: DTypePolicy = .float32Only) throws -> SafeTensorsFile {
        try parse(bytes: try FileIO.readAll(path: path), path: path, integrity: integrity, dtypes: dtypes)
    }

    /// Which element types a reader takes. RingTrain writes F32 only, and its checkpoints are
    /// read strictly; weights from elsewhere (timm's `model.safetensors`, a converted
    /// torchvision `.pth`) may hold F16, BF16 or F64 tensors, converted to F32 on reading, and
    /// integer ones (batch norm's `num_batches_tracked`), converted too.
    public enum DTypePolicy: Sendable {
        case float32Only
        case convertToFloat32
    }

    /// Bytes per element of a safetensors dtype, nil for one we do not read.
    static func elementBytes(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    /// Validates everything and decodes the tensors: the header length against the file size,
    /// the JSON, `__metadata__` (string to string), each tensor's dtype (F32 only), shape and
    /// `data_offsets` (in range, matching the shape, contiguous and non-overlapping, covering the
    /// whole data section), then the checksums. Errors name `path` and the tensor or field.
    public static func parse(bytes: [UInt8], path: String = "<memory>", integrity: IntegrityCheck = .required,
                             dtypes: DTypePolicy = .float32Only) throws -> SafeTensorsFile {
        func fail(_ kind: CheckpointError.Kind, _ field: String?, _ message: String) -> CheckpointError {
            CheckpointError(kind, file: path, field: field, message)
        }
        guard bytes.count >= 8 else {
            throw fail(.truncated, nil, "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var n64: UInt64 = 0
        for i in (0..<8).reversed() { n64 = n64 << 8 | UInt64(bytes[i]) }
        guard n64 <= UInt64(maxHeaderBytes) else {
            throw fail(.badHeader, "header length", "\(n64) bytes is over the \(maxHeaderBytes)-byte limit")
        }
        let n = Int(n64)
        guard n <= bytes.count - 8 else {
            throw fail(.truncated, "header length", "header of \(n) bytes, but only \(bytes.count - 8) bytes follow the length")
        }
        let header = bytes[8..<(8 + n)]
        guard header.first == UInt8(ascii: "{") else {
            throw fail(.badHeader, "header", "does not start with '{'")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(header), options: [])
        } catch {
            throw fail(.badHeader, "header", "not valid JSON (\(error.localizedDescription))")
        }
        guard let top = object as? [String: Any] else { throw fail(.badHeader, "header", "not a JSON object") }

        var metadata: [String: String] = [:]
        if let m = top["__metadata__"] {
            guard let dict = m as? [String: Any] else { throw fail(.badHeader, "__metadata__", "not an object") }
            for (k, v) in dict {
                guard let s = v as? String else { throw fail(.badHeader, "__metadata__.\(k)", "not a string") }
                metadata[k] = s
            }
        }

        let dataStart = 8 + n
        let dataCount = bytes.count - dataStart
        struct Entry { let name: String; let shape: [Int]; let begin: Int; let end: Int; let dtype: String }
        var entries: [Entry] = []
        // In file order (by data offset, then name): an error names the same tensor every run,
        // the first one it applies to, not whichever a dictionary yields first.
        func begin(_ name: String) -> Int { (integers((top[name] as? [String: Any])?["data_offsets"]))?.first ?? Int.max }
        let names = top.keys.filter { $0 != "__metadata__" }.map { ($0, begin($0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        for name in names {
            let value = top[name]!
            let field = "tensor \(name)"
            guard let e = value as? [String: Any] else { throw fail(.badTensor, field, "entry is not an object") }
            for key in e.keys where !["dtype", "shape", "data_offsets"].contains(key) {
                throw fail(.badTensor, field, "unknown field '\(key)'")
            }
            guard let dtype = e["dtype"] as? String else { throw fail(.badTensor, field, "dtype missing or not a string") }
            guard dtype == "F32" || (dtypes == .convertToFloat32 && elementBytes(dtype) != nil) else {
                throw fail(.badTensor, field, dtypes == .float32Only ? "dtype \(dtype) is not supported (only F32)"
                           : "dtype \(dtype) is not supported (F64, F32, F16, BF16 and integer types are)")
            }
            let width = elementBytes(dtype)!
            guard let shape = integers(e["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail(.badTensor, field, "shape missing or not a list of non-negative integers")
            }
            guard let off = integers(e["data_offsets"]), off.count == 2, off[0] >= 0, off[0] <= off[1] else {
                throw fail(.badTensor, field, "data_offsets missing or not [begin, end] with 0 <= begin <= end")
            }
            guard off[1] <= dataCount else {
                throw fail(.truncated, field, "data_offsets [\(off[0]), \(off[1])) run past the data section's \(dataCount) bytes")
            }
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataCount else { throw fail(.badTensor, field, "shape \(shape) is larger than the file") }
                elements = p
            }
            guard off[1] - off[0] == elements * width else {
                throw fail(.badTensor, field, "data_offsets [\(off[0]), \(off[1])) span \(off[1] - off[0]) bytes, but \(dtype) \(shape) needs \(elements * width)")
            }
            entries.append(Entry(name: name, shape: shape, begin: off[0], end: off[1], dtype: dtype))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for e in entries {
            if e.begin < cursor {
                throw fail(.badTensor, "tensor \(e.name)", "data_offsets [\(e.begin), \(e.end)) overlap the previous tensor, which ends at \(cursor)")
            }
            if e.begin > cursor {
                throw fail(.badTensor, "tensor \(e.name)", "data_offsets start at \(e.begin), leaving a gap after \(cursor)")
            }
            cursor = e.end
        }
        if cursor != dataCount {
            throw fail(cursor < dataCount ? .badHeader : .truncated, "data section",
                       "is \(dataCount) bytes, but the tensors cover \(cursor)")
        }

        // Checksums.
        let hasData = metadata[dataChecksumKey] != nil, hasHeader = metadata[headerChecksumKey] != nil
        if integrity == .required || (integrity == .ifPresent && (hasData || hasHeader)) {
            guard let expectedHeader = metadata[headerChecksumKey] else {
                throw fail(.integrity, "__metadata__.\(headerChecksumKey)", "missing")
            }
            guard let at = checksumPosition(in: Array(header)) else {
                throw fail(.integrity, "__metadata__.\(headerChecksumKey)", "not where the writer puts it")
            }
            var blanked = Array(header)
            let stored = String(decoding: blanked[at..<(at + 64)], as: UTF8.self)
            blanked.replaceSubrange(at..<(at + 64), with: Array(placeholder.utf8))
            let actual = sha256Hex(blanked[...])
            guard stored == expectedHeader, actual == stored else {
                throw fail(.integrity, "header", "SHA-256 mismatch (stored \(stored), computed \(actual)): the header is corrupt")
            }
            guard let expectedData = metadata[dataChecksumKey] else {
                throw fail(.integrity, "__metadata__.\(dataChecksumKey)", "missing")
            }
            let actualData = sha256Hex(bytes[dataStart...])
            guard actualData == expectedData else {
                throw fail(.integrity, "data section", "SHA-256 mismatch (stored \(expectedData), computed \(actualData)): the tensor data is corrupt")
            }
        }

        // Decode.
        var tensors: [SafeTensor] = []
        tensors.reserveCapacity(entries.count)
        bytes.withUnsafeBytes { raw in
            for e in entries {
                let source = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
                if e.dtype != "F32" {
                    tensors.append(SafeTensor(name: e.name, shape: e.shape, values: SafeTensorConversion.toFloat(source, dtype: e.dtype)))
                    continue
                }
                let count = (e.end - e.begin) / 4
                var values = [Float](repeating: 0, count: count)
                values.withUnsafeMutableBytes { dst in
                    if count > 0 { dst.copyMemory(from: source) }
                }
                #if _endian(big)
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
                #endif
                tensors.append(SafeTensor(name: e.name, shape: e.shape, values: values))
            }
        }
        return SafeTensorsFile(path: path, metadata: metadata, tensors: tensors)
    }

    // MARK: - Helpers

    static let placeholder = String(repeating: "0", count: 64)

    /// Where the 64 hex digits of the header checksum start: right after the one occurrence of
    /// `"ringtrain.header_sha256":"`. nil if it is missing, repeated, or not followed by 64 bytes and a quote.
    static func checksumPosition(in header: [UInt8]) -> Int? {
        let needle = Array("\"\(headerChecksumKey)\":\"".utf8)
        var found: Int?
        var i = 0
        while i + needle.count <= header.count {
            if header[i] == needle[0], header[i..<(i + needle.count)].elementsEqual(needle) {
                if found != nil { return nil }
                found = i + needle.count
            }
            i += 1
        }
        guard let at = found, at + 65 <= header.count, header[at + 64] == UInt8(ascii: "\"") else { return nil }
        return at
    }

    static func sha256Hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digest = bytes.withUnsafeBytes { SHA256.hash(data: $0) }
        let hex: [Character] = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(64)
        for b in digest {
            s.append(hex[Int(b >> 4)])
            s.append(hex[Int(b & 15)])
        }
        return s
    }

    /// A JSON array of integers (no fractions).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in array {
            guard let number = v as? NSNumber else { return nil }
            let d = number.doubleValue
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            out.append(number.intValue)
        }
        return out
    }
}
