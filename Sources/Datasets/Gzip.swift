import CZlib
import Foundation

/// Reads a file whole, inflating it when it starts with the gzip magic (1f 8b).
/// Errors name the file; a corrupt or truncated gzip stream names the compressed offset.
func readMaybeGzipped(path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DatasetError(file: path, field: "file", "cannot be read (missing or unreadable)")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
    return try gunzip(bytes, path: path)
}

func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
    // The gzip trailer's ISIZE (uncompressed length mod 2^32) is a good first guess.
    var capacity = input.count * 4
    if input.count >= 18 {
        let n = input.count
        let isize = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        if isize > 0 { capacity = isize }
    }
    var output = [UInt8](repeating: 0, count: max(capacity, 64))
    var stream = z_stream()
    // 15 + 16: gzip wrapper only.
    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw DatasetError(file: path, field: "gzip", "zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }
    var produced = 0
    var status: Int32 = Z_OK
    try input.withUnsafeBufferPointer { inBuf in
        stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
        stream.avail_in = uInt(inBuf.count)
        while true {
            if produced == output.count { output.append(contentsOf: repeatElement(0, count: output.count)) }
            status = output.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                stream.next_out = outBuf.baseAddress! + produced
                stream.avail_out = uInt(outBuf.count - produced)
                let before = stream.avail_out
                let r = inflate(&stream, Z_NO_FLUSH)
                produced += Int(before - stream.avail_out)
                return r
            }
            if status == Z_STREAM_END { break }
            if status == Z_OK { continue }
            if status == Z_BUF_ERROR && stream.avail_in == 0 {
                throw DatasetError(file: path, field: "gzip stream", offset: inBuf.count,
                                   "truncated: the compressed data ends before the gzip stream does")
            }
            if status == Z_BUF_ERROR { continue }
            let consumed = inBuf.count - Int(stream.avail_in)
            let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw DatasetError(file: path, field: "gzip stream", offset: consumed, "corrupt: \(reason)")
        }
    }
    output.removeSubrange(produced...)
    return output
}
