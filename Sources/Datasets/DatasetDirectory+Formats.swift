import Foundation

extension Dataset {
    static func loadIDX(directory: String, trainImages: String) throws -> Dataset {
        func required(_ stem: String) throws -> String {
            guard let p = find(directory, stem) else {
                throw DatasetError(file: directory + "/" + stem + "[.gz]", field: "file", "is missing")
            }
            return p
        }
        let listed = try ClassNames.read(directory: directory, files: ["classes.txt"])
        let trainLabels = try required("train-labels-idx1-ubyte")
        let testImages = try required("t10k-images-idx3-ubyte"), testLabels = try required("t10k-labels-idx1-ubyte")
        var train = try readIDXPair(images: trainImages, labels: trainLabels, classCount: listed?.names.count, namesFile: listed?.file)
        var test = try readIDXPair(images: testImages, labels: testLabels, classCount: listed?.names.count, namesFile: listed?.file)
        let classes = inferredClassCount([train.labels, test.labels], names: listed?.names)
        train = train.withClassCount(classes)
        test = test.withClassCount(classes)
        let names = listed?.names ?? ClassNames.knownByTrainingLabels[train.fingerprint]
        return Dataset(directory: directory, format: .idx, train: train, test: test,
                       classNames: ClassNames.complete(names, count: classes))
    }

    /// Reads an IDX image file and its label file and checks that they agree. `classCount`:
    /// labels must be below it (a class list's length); nil accepts any label the file holds,
    /// and the returned split's class count is one more than its largest label.
    public static func readIDXPair(images imagePath: String, labels labelPath: String, classCount: Int? = nil,
                                   namesFile: String? = nil) throws -> LabeledImages {
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
        if let classCount {
            for (i, l) in labels.data.enumerated() where Int(l) >= classCount {
                throw DatasetError(file: labelPath, field: "label of item \(i)", offset: labelHeader + i,
                                   "label \(l) is out of range 0..<\(classCount) (\(namesFile ?? "the class list") names \(classCount) classes)")
            }
        }
        let d = images.dimensions
        let (c, h, w) = d.count == 3 ? (1, d[1], d[2]) : (d[1], d[2], d[3])
        let classes = classCount ?? (Int(labels.data.max() ?? 0) + 1)
        return LabeledImages(channels: c, height: h, width: w, classCount: classes, pixels: images.data, labels: labels.data)
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
        // CIFAR-10's binary release ships its names in batches.meta.txt; without it, indices.
        let listed = try ClassNames.read(directory: directory, files: ["batches.meta.txt", "classes.txt"])
        let classes = inferredClassCount([trainLabels.map(Int32.init), testLabels.map(Int32.init)], names: listed?.names)
        if let listed, listed.names.count < classes {
            throw DatasetError(file: listed.file, field: "class names",
                               "names \(listed.names.count) classes, but the batches have labels up to \(classes - 1)")
        }
        let make = { (p: [UInt8], l: [UInt8]) in
            LabeledImages(channels: 3, height: 32, width: 32, classCount: classes, pixels: p, labels: l)
        }
        return Dataset(directory: directory, format: .cifar10, train: make(trainPixels, trainLabels),
                       test: make(testPixels, testLabels), classNames: ClassNames.complete(listed?.names, count: classes))
    }
}
