import ArgumentParser
import Checkpoints
import Datasets
import Foundation
import Kernels
import Training

/// `ringtrain predict --checkpoint FILE... INPUT...`: the most probable classes of new images.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images with a trained model (several checkpoints: an ensemble).",
        discussion: """
        INPUT is an image file (JPEG, PNG, WebP), a folder (every image in it, recursively, in \
        path order) or a dataset directory (its test split). Images are decoded, resized and \
        normalised as the model's training images were (the checkpoint records how).
        """)

    @Option(name: .customLong("checkpoint"),
            help: "A checkpoint file, run directory or `latest` pointer; repeat it for an ensemble.")
    var checkpoints: [String]
    @Option(name: .customLong("top-k"), help: "Classes to print per input.") var topK: Int = 5
    @Flag(help: "One JSON object per input, one per line.") var json = false
    @Option(help: "Compute and decoding threads (0: all cores).") var threads: Int = 0
    @Option(name: .customLong("batch-size"), help: "Images per forward pass.") var batchSize: Int = 128
    @Option(help: "raw (the trained weights), ema (the weight average), validation (members weighted by their validation top-1) or one weight per checkpoint, e.g. 0.5,0.3,0.2.")
    var weights: String = "raw"
    @Option(help: "How an ensemble's members are combined: mean (of the softmax outputs) or vote (of the top-1 classes).")
    var combine: EnsembleCombineChoice = .mean
    @Argument(help: "Images, folders or dataset directories.") var inputs: [String]

    func validate() throws {
        if checkpoints.isEmpty { throw ValidationError("give at least one --checkpoint FILE") }
        if inputs.isEmpty { throw ValidationError("give at least one image, folder or dataset") }
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if batchSize < 1 || batchSize > 4096 { throw ValidationError("--batch-size must be in 1...4096") }
    }

    func run() throws {
        let cores = threads > 0 ? threads : max(ProcessInfo.processInfo.activeProcessorCount, 1)
        KernelThreads.count = cores
        let predictor = try exitingOnBadInput { () -> Predictor in
            let choice = try EnsembleWeights.parse(weights)
            let models = try checkpoints.map { try CheckpointModel(path: try resolveCheckpointPath($0), maxBatch: batchSize, weights: choice.tensors) }
            let predictor = try Predictor(models: models, batchSize: batchSize)
            predictor.memberWeights = try choice.memberWeights(models)
            predictor.combine = combine.rule
            return predictor
        }
        let sources = try exitingOnBadInput { try PredictInputs.collect(inputs) }
        let k = min(topK, predictor.classCount)
        let started = Date()
        var start = 0
        while start < sources.count {
            let chunk = Array(sources[start..<min(start + predictor.batchCapacity, sources.count)])
            let records = try exitingOnBadInput { try PredictInputs.records(chunk, preparation: predictor.preparation, threads: cores) }
            let predictions = predictor.predictions(records)
            for (i, source) in chunk.enumerated() {
                let best = Predictor.top(predictions[i], k: k)
                print(json ? try Self.jsonLine(source.name, best, predictor.classNames)
                           : source.name + "\t" + best.map { "\(predictor.classNames[$0.0]) \(String(format: "%.4f", $0.1))" }.joined(separator: ", "))
            }
            start += chunk.count
        }
        let seconds = -started.timeIntervalSinceNow
        printError(String(format: "predict: %d images in %.2f s (%.1f images/s, %d threads, batches of %d%@)", sources.count, seconds,
                          Double(sources.count) / max(seconds, 1e-9), cores, predictor.batchCapacity,
                          checkpoints.count > 1 ? ", an ensemble of \(checkpoints.count)" : ""))
    }

    struct Line: Encodable {
        struct Entry: Encodable { let `class`: String; let index: Int; let probability: Float }
        let input: String
        let top: [Entry]
    }

    static func jsonLine(_ name: String, _ best: [(Int, Float)], _ names: [String]) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Line(input: name, top: best.map { .init(class: names[$0.0], index: $0.0, probability: $0.1) })
        return String(decoding: try e.encode(line), as: UTF8.self)
    }
}

/// What `predict` reads: image files, or the images of a dataset's test split.
enum PredictInputs {
    enum Source {
        case file(String)
        case record(LabeledImages, Int, String)

        var name: String {
            switch self {
            case .file(let p): return p
            case .record(_, _, let n): return n
            }
        }
    }

    static func collect(_ inputs: [String]) throws -> [Source] {
        var out: [Source] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw DatasetError(file: input, field: "input", "does not exist")
            }
            guard isDir.boolValue else { out.append(.file(input)); continue }
            if let format = Dataset.detectFormat(directory: input), format != .imageFolder {
                let test = try Dataset.load(directory: input).test
                out += (0..<test.count).map { .record(test, $0, "\(input)#test[\($0)]") }
                continue
            }
            out += try imageFiles(under: input).map { .file($0) }
        }
        return out
    }

    static func imageFiles(under dir: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: dir) else {
            throw DatasetError(file: dir, field: "directory", "cannot be listed")
        }
        var files: [String] = []
        while let rel = walker.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            if ImageFolder.imageExtensions.contains((name as NSString).pathExtension.lowercased()) { files.append(dir + "/" + rel) }
        }
        return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The records of `sources`, decoded on `threads` threads; the first unreadable file is
    /// the error (naming it).
    static func records(_ sources: [Source], preparation: ImagePreparation, threads: Int) throws -> [[UInt8]] {
        var results = [Result<[UInt8], Error>](repeating: .success([]), count: sources.count)
        let lock = NSLock()
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeMutableSendableBuffer(slots)
            DispatchQueue.concurrentPerform(iterations: min(threads, sources.count)) { worker in
                let decoder = ImageRecordDecoder(preparation: preparation)
                var i = worker
                while i < sources.count {
                    let r = Result { () -> [UInt8] in
                        switch sources[i] {
                        case .file(let path): return try decoder.record(path: path)
                        case .record(let images, let j, _):
                            return try recordFromDataset(images, j, preparation: preparation)
                        }
                    }
                    lock.lock(); slots.buffer[i] = r; lock.unlock()
                    i += min(threads, sources.count)
                }
            }
        }
        return try results.map { try $0.get() }
    }

    /// A dataset's own record, when its shape is the model's (else an error naming it).
    static func recordFromDataset(_ images: LabeledImages, _ i: Int, preparation p: ImagePreparation) throws -> [UInt8] {
        guard images.channels == p.channels, images.height == p.height, images.width == p.width else {
            throw DatasetError(file: "test[\(i)]", field: "shape",
                               "\(images.channels)x\(images.height)x\(images.width), the model takes \(p.channels)x\(p.height)x\(p.width)")
        }
        return images.imageBytes(i)
    }
}

/// A buffer handed to concurrentPerform's workers, each writing its own slots.
struct UnsafeMutableSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { buffer = b }
}
