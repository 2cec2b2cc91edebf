// The fuzz entry point for `ringtrain fuzz` (and libFuzzer): every decoding path on one input,
// with the invariants a successful decode must keep checked as traps, so a fuzzer sees them.

/// Options the fuzz body tries on every input. maxPixels is lowered so that a mutated header
/// asking for 16000 x 16000 fails fast instead of decoding 768 MB of grey.
let fuzzOptions: [DecodeOptions] = [
    DecodeOptions(maxPixels: 1 << 22),
    DecodeOptions(maxPixels: 1 << 22, channels: 1),
    DecodeOptions(maxPixels: 1 << 22, minimumSize: (width: 64, height: 64)),
    DecodeOptions(maxPixels: 1 << 22, channels: 1, minimumSize: (width: 1, height: 1), applyOrientation: false),
    DecodeOptions(maxPixels: 1 << 22, rejectJPEGWarnings: true),
]

/// Reads the header and decodes `data` with each of `fuzzOptions`; never throws (errors are the
/// expected outcome for most inputs) and traps only when a decode breaks its own contract.
public func fuzzImageDecoder(_ data: UnsafeRawBufferPointer, decoder: ImageDecoder) {
    let header = try? decoder.readHeader(data)
    for options in fuzzOptions {
        guard let image = try? decoder.decode(data, options: options) else { continue }
        precondition(image.channels == options.channels, "fuzz: \(image.channels) channels for \(options.channels)")
        precondition(image.width >= 1 && image.height >= 1, "fuzz: decoded \(image.width) x \(image.height)")
        precondition(image.pixels.count == image.width * image.height * image.channels, "fuzz: pixel count")
        if let header, options.minimumSize == nil {
            let (w, h) = options.applyOrientation ? (header.orientedWidth, header.orientedHeight) : (header.width, header.height)
            precondition(image.width == w && image.height == h,
                         "fuzz: decoded \(image.width) x \(image.height), header says \(w) x \(h)")
        }
    }
}

/// `fuzzImageDecoder` with a decoder kept for the process (libFuzzer calls it millions of times).
public func fuzzImageDecoder(_ data: UnsafeRawBufferPointer) {
    fuzzImageDecoder(data, decoder: sharedFuzzDecoder)
}

private let sharedFuzzDecoder = ImageDecoder()

/// Small valid files of every kind the decoder reads, as fuzzing seeds: baseline, progressive,
/// grey, CMYK and EXIF-oriented JPEG; grey, grey + alpha, RGB, RGBA, palette + tRNS, 16-bit,
/// 1-bit, interlaced and eXIf PNG; lossy, lossless and alpha WebP, one with EXIF (16 files).
public func imageFuzzSeeds() -> [[UInt8]] {
    let (w, h) = (19, 13)
    func samples(bytesPerPixel: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: w * h * bytesPerPixel)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 37 &+ (i / 7) &* 11) }
        return bytes
    }
    func image(_ channels: Int) -> DecodedImage {
        DecodedImage(width: w, height: h, channels: channels, pixels: samples(bytesPerPixel: channels))
    }
    let exif = ImageEncoder.exifBlock(orientation: 6)
    var seeds: [[UInt8]?] = []
    seeds.append(try? ImageEncoder.jpeg(image(3), quality: 80))
    seeds.append(try? ImageEncoder.jpeg(image(3), quality: 80, progressive: true))
    seeds.append(try? ImageEncoder.jpeg(image(1), quality: 80))
    seeds.append(try? ImageEncoder.jpeg(image(3), quality: 80, cmyk: true))
    seeds.append((try? ImageEncoder.jpeg(image(3), quality: 80)).flatMap { try? ImageEncoder.insertingJPEGEXIF($0, exif: exif) })
    for c in 1...4 { seeds.append(try? ImageEncoder.png(image(c))) }
    let palette = (0..<16).map { (i: Int) -> PNGPaletteEntry in
        PNGPaletteEntry(r: UInt8(i * 16), g: UInt8(255 - i * 16), b: 7, a: UInt8(i * 17))
    }
    seeds.append(try? ImageEncoder.png(width: w, height: h, channels: 1, bitDepth: 4,
                                       pixels: image(1).pixels.map { $0 & 15 }, palette: palette))
    seeds.append(try? ImageEncoder.png(width: w, height: h, channels: 3, bitDepth: 16, pixels: samples(bytesPerPixel: 6)))  // RGB, 2 bytes each
    seeds.append(try? ImageEncoder.png(width: w, height: h, channels: 1, bitDepth: 1, pixels: image(1).pixels.map { $0 & 1 }))
    seeds.append(try? ImageEncoder.png(image(3), interlaced: true, exif: exif))
    seeds.append(try? ImageEncoder.webp(image(3), quality: 75, lossless: false))
    seeds.append(try? ImageEncoder.webp(image(3), quality: 75, lossless: true))
    seeds.append(try? ImageEncoder.webp(image(4), quality: 75, lossless: false, exif: exif))
    return seeds.compactMap { $0 }
}
