import Foundation

/// A dataset on disk: its format, the splits, and the class names.
public struct Dataset: Sendable {
    public enum Format: String, Codable, Sendable {
        case idx = "idx"
        case cifar10 = "cifar10-binary"
        /// A folder written by `ringtrain data prepare` (docs/datasets.md).
        case prepared = "prepared"
        /// A raw image folder (`ROOT/<class>/<images>`), read through its prepared cache.
        case imageFolder = "image-folder"
    }

    public let directory: String
    public let format: Format
    public let train: LabeledImages
    /// A validation split the data itself carries (`val/` of an image folder); nil when the
    /// trainer holds out `validation_fraction` of the training split instead.
    public let validation: LabeledImages?
    public let test: LabeledImages
    public let classNames: [String]
    /// Per-channel mean and std of the training split's pixels in [0, 1] (the normalisation).
    public let normalization: (mean: [Double], std: [Double])
    /// Where the prepared records live (prepared datasets and raw folders; nil otherwise).
    public let preparedDirectory: String?
    /// How images were made into records (prepared data): what `predict` repeats on new images.
    public let preparation: ImagePreparation?

    public init(directory: String, format: Format, train: LabeledImages, validation: LabeledImages? = nil,
                test: LabeledImages, classNames: [String], normalization: (mean: [Double], std: [Double])? = nil,
                preparedDirectory: String? = nil, preparation: ImagePreparation? = nil) {
        self.directory = directory
        self.format = format
        self.train = train
        self.validation = validation
        self.test = test
        self.classNames = classNames
        if let normalization {
            self.normalization = normalization
        } else {
            let stats = DatasetStatistics(train)
            self.normalization = (stats.mean, stats.std)
        }
        self.preparedDirectory = preparedDirectory
        self.preparation = preparation
    }

    public var classCount: Int { train.classCount }

    /// The format `load` would read `directory` as (nil: none).
    public static func detectFormat(directory: String) -> Format? {
        let fm = FileManager.default
        if PreparedDataset.isPrepared(directory: directory) { return .prepared }
        if find(directory, "train-images-idx3-ubyte") != nil { return .idx }
        if [directory, directory + "/cifar-10-batches-bin"].contains(where: { fm.fileExists(atPath: $0 + "/test_batch.bin") }) { return .cifar10 }
        if ImageFolder.looksLikeImageFolder(directory) { return .imageFolder }
        return nil
    }

    /// What a reader may be told besides the directory: class names from the config, and how
    /// a raw image folder is prepared on first use.
    public struct LoadOptions: Sendable {
        /// `class_names` of the config: overrides names found beside the data.
        public var classNames: [String]?
        public var imageFolder: ImageFolderOptions
        /// Progress of preparing a raw folder's cache (about once a second).
        public var progress: (@Sendable (PrepareProgress) -> Void)?
        public init(classNames: [String]? = nil, imageFolder: ImageFolderOptions = ImageFolderOptions(),
                    progress: (@Sendable (PrepareProgress) -> Void)? = nil) {
            self.classNames = classNames
            self.imageFolder = imageFolder
            self.progress = progress
        }
    }

    /// Detects the format from the files in `directory` and reads every split, checking every
    /// file: a prepared dataset (`manifest.json`), IDX (`train-images-idx3-ubyte[.gz]` and
    /// friends), CIFAR-10 binary (`data_batch_{1..5}.bin` + `test_batch.bin`, also inside a
    /// `cifar-10-batches-bin/` subfolder), or else an image folder.
    public static func load(directory: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(file: directory, field: "directory", "does not exist or is not a directory")
        }
        let dataset: Dataset
        if PreparedDataset.isPrepared(directory: directory) {
            dataset = try PreparedDataset.open(directory: directory).dataset(format: .prepared, source: directory)
        } else if let trainImages = find(directory, "train-images-idx3-ubyte") {
            dataset = try loadIDX(directory: directory, trainImages: trainImages)
        } else if let dir = [directory, directory + "/cifar-10-batches-bin"].first(where: { fm.fileExists(atPath: $0 + "/test_batch.bin") }) {
            dataset = try loadCIFAR(directory: dir)
        } else if ImageFolder.looksLikeImageFolder(directory) {
            dataset = try ImageFolderCache.load(root: directory, options: options.imageFolder, progress: options.progress)
        } else {
            throw DatasetError(file: directory, field: "format",
                               "no dataset found: expected a prepared dataset (manifest.json), IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...), CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin) or an image folder (ROOT/<class>/<images>, optionally under train/, val/, test/)")
        }
        guard let names = options.classNames else { return dataset }
        return try dataset.renamingClasses(names, source: "config key 'class_names'")
    }

    /// The same data with other class names (the config's `class_names`); their number must
    /// cover every label.
    func renamingClasses(_ names: [String], source: String) throws -> Dataset {
        guard names.count >= classCount else {
            throw DatasetError(file: directory, field: "class_names",
                               "\(source) names \(names.count) classes, but the data has labels up to \(classCount - 1)")
        }
        func widened(_ s: LabeledImages) -> LabeledImages { s.withClassCount(names.count) }
        return Dataset(directory: directory, format: format, train: widened(train), validation: validation.map(widened),
                       test: widened(test), classNames: names, normalization: normalization,
                       preparedDirectory: preparedDirectory, preparation: preparation)
    }

    static func find(_ dir: String, _ stem: String) -> String? {
        for name in [stem + ".gz", stem] where FileManager.default.fileExists(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    /// The class count of splits read without a class list: one more than the largest label
    /// in any of them (a label that appears only in the test split still gets its output).
    static func inferredClassCount(_ splits: [[Int32]], names: [String]?) -> Int {
        let largest = splits.compactMap { $0.max() }.max() ?? 0
        return max(Int(largest) + 1, names?.count ?? 0, 1)
    }
}
