/// Reader for the CIFAR-10 binary version (https://www.cs.toronto.edu/~kriz/cifar.html):
/// records of 1 label byte + 3072 pixel bytes (3 planes of 32x32, CHW), no header.
public enum CIFARReader {
    public static let channels = 3, height = 32, width = 32
    public static let imageBytes = 3 * 32 * 32
    public static let recordBytes = 1 + imageBytes
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    /// Reads one batch file; appends to `images` (CHW bytes) and `labels`.
    public static func read(path: String, images: inout [UInt8], labels: inout [UInt8]) throws {
        try parse(try readMaybeGzipped(path: path), path: path, images: &images, labels: &labels)
    }

    public static func parse(_ bytes: [UInt8], path: String, images: inout [UInt8], labels: inout [UInt8]) throws {
        guard !bytes.isEmpty else {
            throw DatasetError(file: path, field: "records", offset: 0, "file is empty")
        }
        let whole = bytes.count / recordBytes
        if bytes.count % recordBytes != 0 {
            throw DatasetError(file: path, field: "record \(whole)", offset: whole * recordBytes,
                               "truncated: \(bytes.count) bytes is not a multiple of the \(recordBytes)-byte record (label + 3x32x32)")
        }
        images.reserveCapacity(images.count + whole * imageBytes)
        for r in 0..<whole {
            let o = r * recordBytes
            let label = bytes[o]
            guard label < 10 else {
                throw DatasetError(file: path, field: "label of record \(r)", offset: o,
                                   "label \(label) is out of range 0..<10")
            }
            labels.append(label)
            images.append(contentsOf: bytes[(o + 1)..<(o + recordBytes)])
        }
    }
}
