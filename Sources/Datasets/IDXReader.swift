/// Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
/// magic `00 00 08 NDIMS` (unsigned bytes), NDIMS big-endian UInt32 sizes, then the data.
/// Everything is checked against the file length before a byte of data is trusted.
public enum IDXReader {
    /// An IDX array of unsigned bytes: its dimensions and data.
    public struct IDXArray {
        public let dimensions: [Int]
        public let data: [UInt8]
    }

    public static func read(path: String) throws -> IDXArray {
        try parse(try readMaybeGzipped(path: path), path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> IDXArray {
        guard bytes.count >= 4 else {
            throw DatasetError(file: path, field: "magic", offset: 0,
                               "file is \(bytes.count) bytes, too short for the 4-byte IDX magic")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError(file: path, field: "magic", offset: 0,
                               "bad magic \(hex(bytes[0..<4])): an IDX file starts with 00 00")
        }
        guard bytes[2] == 0x08 else {
            throw DatasetError(file: path, field: "magic (element type)", offset: 2,
                               "type code 0x\(String(bytes[2], radix: 16)) is not 0x08 (unsigned byte)")
        }
        let ndims = Int(bytes[3])
        guard (1...4).contains(ndims) else {
            throw DatasetError(file: path, field: "dimension count", offset: 3,
                               "\(ndims) dimensions; expected 1 to 4")
        }
        let headerLength = 4 + 4 * ndims
        guard bytes.count >= headerLength else {
            throw DatasetError(file: path, field: "dimension sizes", offset: bytes.count,
                               "truncated: header needs \(headerLength) bytes, file has \(bytes.count)")
        }
        let dims = (0..<ndims).map { d -> Int in
            let o = 4 + 4 * d
            return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        // Sizes are below 2^32 each: products saturate instead of trapping. A claim far beyond
        // the file names the count (dimension 0, the field a hostile or damaged header
        // inflates), not the dimension at which the product happened to cross a bound.
        func product(_ xs: ArraySlice<Int>) -> Int {
            xs.reduce(1) { a, b in let (p, o) = a.multipliedReportingOverflow(by: b); return o ? Int.max : p }
        }
        let actual = bytes.count - headerLength
        let perItem = product(dims.dropFirst())
        if perItem > 0, dims[0] > 2 * (actual / perItem) + 1 {
            let need = product(dims[...])
            throw DatasetError(file: path, field: "dimension 0 size (the item count)", offset: 4,
                               "\(dims[0]) items of \(dims.dropFirst().map(String.init).joined(separator: "x")) bytes need "
                               + (need == Int.max ? "more than 2^63" : "\(need)")
                               + " data bytes after the \(headerLength)-byte header; the file has \(actual)")
        }
        let expected = product(dims[...])
        guard expected <= 1 << 40 else {
            throw DatasetError(file: path, field: "dimension sizes", offset: 4, "\(dims) describe more than 2^40 bytes")
        }
        if actual < expected {
            throw DatasetError(file: path, field: "data", offset: bytes.count,
                               "truncated: dimensions \(dims) need \(expected) data bytes after the \(headerLength)-byte header, file has \(actual)")
        }
        if actual > expected {
            throw DatasetError(file: path, field: "data", offset: headerLength + expected,
                               "\(actual - expected) unexpected trailing bytes after the data of dimensions \(dims)")
        }
        return IDXArray(dimensions: dims, data: Array<UInt8>(bytes[headerLength...]))
    }

    static func hex(_ s: ArraySlice<UInt8>) -> String {
        s.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
    }
}
