import Datasets

extension TrainingConfig {
    /// The dataset this config trains on, read with its class names and image-folder
    /// settings (a raw folder is prepared into its cache on first use).
    public func loadDataset(directory: String? = nil,
                            progress: (@Sendable (PrepareProgress) -> Void)? = nil) throws -> Dataset {
        var folder = images
        if folder.threads == 0, threads > 0 { folder.threads = threads }
        let options = Dataset.LoadOptions(classNames: classNames, imageFolder: folder, progress: progress)
        return try Dataset.load(directory: directory ?? data, options: options)
    }
}
