import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: kernels, all-reduce, codecs, training throughput.",
        subcommands: [BenchKernelsCommand.self, BenchAllReduceCommand.self, BenchCodecCommand.self,
                      BenchTrainCommand.self]
    )
}
