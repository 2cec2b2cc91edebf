import ArgumentParser
import Cluster
import Foundation
import Training

/// `ringtrain lr-find --config FILE`: the learning-rate range test (Lightning's `lr_find`,
/// fastai's `lr_find`): the curve goes to RUN_DIR/lr_find.json, `ringtrain report` draws it.
struct LRFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Sweep the learning rate over a few hundred steps and suggest one.",
        discussion: """
        From the config's fresh model, one optimizer step per learning rate, growing from \
        --start-lr to --end-lr; stops early when the smoothed loss passes --early-stop-threshold \
        times its best. Suggests the rate where the smoothed loss falls fastest. Nothing is \
        checkpointed; the curve is written to RUN_DIR/lr_find.json.
        """)

    @OptionGroup var options: TrainingOptions
    @Option(name: .customLong("start-lr"), help: "The first learning rate (Lightning's min_lr).") var startLR: Double = 1e-8
    @Option(name: .customLong("end-lr"), help: "The last learning rate (Lightning's max_lr).") var endLR: Double = 1
    @Option(help: "Steps of the sweep.") var steps: Int = 100
    @Option(help: "How the rate grows: exponential or linear.") var mode: LearningRateSweep.Mode = .exponential
    @Option(name: .customLong("early-stop-threshold"), help: "Stop when the smoothed loss exceeds this multiple of the best (0: never).")
    var earlyStopThreshold: Double = 4

    @Option(help: "Worker processes: 1 sweeps in this process; N > 1 starts a coordinator and N workers on loopback, as launch --nproc N does, and sweeps on their ring.")
    var nproc: Int = 1

    func validate() throws {
        guard nproc >= 1 && nproc <= 256 else { throw ValidationError("--nproc must be in 1...256") }
        guard !options.resume else { throw ValidationError("--resume: a learning-rate sweep always starts from the config's fresh model") }
    }

    func run() throws {
        let runDir = options.resolvedRunDirectory
        var sweep = LearningRateSweep()
        sweep.minLR = startLR
        sweep.maxLR = endLR
        sweep.steps = steps
        sweep.mode = mode
        sweep.earlyStopThreshold = earlyStopThreshold > 0 ? earlyStopThreshold : nil
        let config = try exitingOnBadInput { () -> TrainingConfig in
            try sweep.validate()
            return try options.resolve()
        }
        let workers = nproc > 1 ? ", \(nproc) workers" : ""
        printError("lr-find: \(Trainer.modelName(config)) on \(config.data)\(workers), \(steps) steps from \(startLR) to \(endLR) (\(mode.rawValue)) -> \(runDir)/\(LearningRateCurve.fileName)")
        let curve: LearningRateCurve
        if nproc > 1 {
            var o = Coordinator.Options(worldSize: nproc, config: LocalCluster.sharingCores(config, nproc: nproc), runDirectory: runDir)
            o.lrSweep = sweep
            curve = try LocalCluster.run(nproc: nproc, options: o) { try $0.findLearningRate() }
        } else {
            let trainer = try exitingOnBadInput { () -> Trainer in
                var o = Trainer.Options(runDirectory: runDir)
                o.progress = ProgressLine(interval: config.progressSeconds)
                return try Trainer(config: config, options: o)
            }
            curve = try trainer.findLearningRate(sweep)
        }
        let end = curve.stoppedEarly ? String(format: "stopped after %d steps: the loss diverged at lr %.3g", curve.lrs.count, curve.lrs.last ?? 0)
                                     : "\(curve.lrs.count) steps"
        if options.json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            print(String(decoding: try e.encode(curve), as: UTF8.self))
        } else if let lr = curve.suggestedLR {
            print(String(format: "suggested lr %.3g (steepest descent of the smoothed loss; %@)", lr, end))
        } else {
            print("no suggestion: too few steps before the loss diverged (\(end)); lower --start-lr or raise --steps")
        }
    }
}
