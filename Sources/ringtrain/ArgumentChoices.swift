import ArgumentParser
import Layers
import Optim
import Training
import Tuning

// Choices on the command line are enums: `--help` lists their values, and a typo is a usage
// error (exit 2) that names the valid ones, before any config is read.

/// `--optimizer`.
enum OptimizerChoice: String, CaseIterable, ExpressibleByArgument {
    case sgd, adamw
}

/// `--codec`: the raw values are the config's `codec` values.
enum CodecChoice: String, CaseIterable, ExpressibleByArgument {
    case none, zstd
    case bf16Zstd = "bf16-zstd"
    case auto
}

/// `--sampler`.
enum SamplerChoice: String, CaseIterable, ExpressibleByArgument {
    case shuffled, balanced, undersample
}

extension ScheduleConfig.Kind: ExpressibleByArgument {}
extension ResNetStem: ExpressibleByArgument {}
extension CheckpointWeights: ExpressibleByArgument {}
extension Tuner.Method: ExpressibleByArgument {}
extension TuneMetric: ExpressibleByArgument {}
extension LearningRateSweep.Mode: ExpressibleByArgument {}
