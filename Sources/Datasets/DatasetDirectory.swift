import Foundation

/// A dataset on disk: its format, the train and test splits, and the class names.
public struct Dataset: Sendable {
    public enum Format: String, Codable, Sendable {
        case idx = "idx"
        case cifar10 = "cifar10-binary"
    }

    public let directory: String
    public let format: Format
    public let train: LabeledImages
    public let test: LabeledImages
    public let classNames: [String]

    /// Detects the format from the files in `directory` (IDX: `train-images-idx3-ubyte[.gz]`
    /// and friends; CIFAR-10: `data_batch_{1..5}.bin` + `test_batch.bin`, also inside a
    /// `cifar-10-batches-bin/` subfolder) and reads both splits, checking every file.
    public static func load(directory: String) throws -> Dataset {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(file: directory, field: "directory", "does not exist or is not a directory")
        }
        if let trainImages = find(directory, "train-images-idx3-ubyte") {
            return try loadIDX(directory: directory, trainImages: trainImages)
        }
        for dir in [directory, directory + "/cifar-10-batches-bin"] where fm.fileExists(atPath: dir + "/test_batch.bin") {
            return try loadCIFAR(directory: dir)
        }
        throw DatasetError(file: directory, field: "format",
                           "no dataset found: expected IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...) or CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin)")
    }

    static func find(_ dir: String, _ stem: String) -> String? {
        for name in [stem + ".gz", stem] where FileManager.default.fileExists(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    static func loadIDX(directory: String, trainImages: String) throws -> Dataset {
        func required(_ stem: String) throws -> String {
            guard let p = find(directory, stem) else {
                throw DatasetError(file: directory + "/" + stem + "[.gz]", field: "file", "is missing")
            }
            return p
        }
        let train = try readIDXPair(images: trainImages, labels: try required("train-labels-idx1-ubyte"))
        let test = try readIDXPair(images: try required("t10k-images-idx3-ubyte"), labels: try required("t10k-labels-idx1-ubyte"))
        let isFashion = directory.lowercased().contains("fashion")
        let names = isFashion
            ? ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
            : (0..<10).map(String.init)
        return Dataset(directory: directory, format: .idx, train: train, test: test, classNames: names)
    }

    /// Reads an IDX image file and its label file and checks that they agree.
    public static func readIDXPair(images imagePath: String, labels labelPath: String, classCount: Int = 10) throws -> LabeledImages {
        let images = try IDXReader.read(path: imagePath)
        let labels = try IDXReader.read(path: labelPath)
        guard images.dimensions.count == 3 || images.dimensions.count == 4 else {
            throw DatasetError(file: imagePath, field: "dimension count", offset: 3,
                               "images need 3 dimensions (N, H, W) or 4 (N, C, H, W); found \(images.dimensions.count)")
        }
        guard labels.dimensions.count == 1 else {
            throw DatasetError(file: labelPath, field: "dimension count", offset: 3,
                               "labels need 1 dimension; found \(labels.dimensions.count)")
        }
        let n = images.dimensions[0]
        guard labels.dimensions[0] == n else {
            throw DatasetError(file: labelPath, field: "item count", offset: 4,
                               "\(labels.dimensions[0]) labels, but \(imagePath) has \(n) images")
        }
        let labelHeader = 8
        for (i, l) in labels.data.enumerated() where Int(l) >= classCount {
            throw DatasetError(file: labelPath, field: "label of item \(i)", offset: labelHeader + i,
                               "label \(l) is out of range 0..<\(classCount)")
        }
        let d = images.dimensions
        let (c, h, w) = d.count == 3 ? (1, d[1], d[2]) : (d[1], d[2], d[3])
        return LabeledImages(channels: c, height: h, width: w, classCount: classCount, pixels: images.data, labels: labels.data)
    }

    static func loadCIFAR(directory: String) throws -> Dataset {
        var trainPixels = [UInt8](), trainLabels = [UInt8]()
        var batches = 0
        for b in 1...5 {
            let path = directory + "/data_batch_\(b).bin"
            guard FileManager.default.fileExists(atPath: path) else { break }
            try CIFARReader.read(path: path, images: &trainPixels, labels: &trainLabels)
            batches += 1
        }
        guard batches > 0 else {
            throw DatasetError(file: directory + "/data_batch_1.bin", field: "file", "is missing")
        }
        var testPixels = [UInt8](), testLabels = [UInt8]()
        try CIFARReader.read(path: directory + "/test_batch.bin", images: &testPixels, labels: &testLabels)
        let make = { (p: [UInt8], l: [UInt8]) in
            LabeledImages(channels: 3, height: 32, width: 32, classCount: 10, pixels: p, labels: l)
        }
        return Dataset(directory: directory, format: .cifar10, train: make(trainPixels, trainLabels),
                       test: make(testPixels, testLabels), classNames: CIFARReader.classNames)
    }
}
