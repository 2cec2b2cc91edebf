// Which format a file is, from its magic bytes alone: a photo saved as "x.png" that is really a
// JPEG decodes as the JPEG it is.

let jpegMagic: [UInt8] = [0xFF, 0xD8, 0xFF]
let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
let riffMagic: [UInt8] = Array("RIFF".utf8)
let webpMagic: [UInt8] = Array("WEBP".utf8)

/// True when `bytes[at...]` starts with `magic`, or with as much of it as `bytes` holds
/// (`prefixOK`: a file cut inside its magic).
private func matches(_ bytes: UnsafeRawBufferPointer, _ magic: [UInt8], at offset: Int = 0, prefixOK: Bool) -> Bool {
    let available = bytes.count - offset
    if available < magic.count && !prefixOK { return false }
    for i in 0..<min(magic.count, max(available, 0)) where bytes[offset + i] != magic[i] { return false }
    return true
}

/// The format of `bytes`. A file shorter than its magic but agreeing with it is `truncated`;
/// anything else unrecognised (including an empty input) is `unknownFormat`.
public func detectImageFormat(_ bytes: UnsafeRawBufferPointer) throws -> ImageFormat {
    if bytes.isEmpty { throw ImageDecodeError(.unknownFormat, "empty input (0 bytes)") }
    if matches(bytes, jpegMagic, prefixOK: false) { return .jpeg }
    if matches(bytes, pngMagic, prefixOK: false) { return .png }
    if matches(bytes, riffMagic, prefixOK: false) && matches(bytes, webpMagic, at: 8, prefixOK: false) { return .webp }
    let cutInMagic: ImageFormat? =
        bytes.count < jpegMagic.count && matches(bytes, jpegMagic, prefixOK: true) ? .jpeg :
        bytes.count < pngMagic.count && matches(bytes, pngMagic, prefixOK: true) ? .png :
        bytes.count < 12 && matches(bytes, riffMagic, prefixOK: true)
            && (bytes.count <= 8 || matches(bytes, webpMagic, at: 8, prefixOK: true)) ? .webp : nil
    if let format = cutInMagic {
        throw ImageDecodeError(.truncated, "\(format.rawValue.uppercased()): the file ends inside its signature (\(bytes.count) bytes)")
    }
    let head = bytes.prefix(8).map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ")
    throw ImageDecodeError(.unknownFormat, "not a JPEG, PNG or WebP file (first bytes \(head))")
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
