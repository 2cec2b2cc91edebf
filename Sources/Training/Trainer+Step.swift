import Datasets
import Foundation
import Layers
import Optim

/// One optimizer step: its micro-batches' forward and backward passes, the all-reduce, the
/// L1 subgradient, the update and the weight average.
extension Trainer {
    /// What one optimizer step did, for the run's counters and records.
    struct StepOutcome {
        /// Samples of all micro-batches (this rank), and the correct top-1 among them.
        var samples = 0
        var correct = 0
        /// The micro-batches' loss, weighted by their share of the samples (the step's mean
        /// loss over `samples`), without the L1 penalty.
        var loss = 0.0
        /// λ·Σ|w| of the weights the step started from (0 without L1).
        var l1Penalty = 0.0
        var dataWaitSeconds = 0.0
        var communicationWaitSeconds = 0.0
    }

    /// Trains one optimizer step on the micro-batches `plan[group]` (their sizes are known from
    /// the plan, so each one's gradient is weighted by its share of the step's samples: the
    /// sum equals the gradient of the mean loss over all of them). Returns nil when the
    /// prefetcher ran dry (cancelled) before the step's first micro-batch.
    func trainStep(micro sizes: [Int], prefetcher: Prefetcher, bucketer: GradientBucketer, epoch: Int,
                   lr: Float, momentum: Float?) throws -> StepOutcome? {
        let world = communicator.worldSize, classes = network.classes
        let total = sizes.reduce(0, +)
        var outcome = StepOutcome()
        network.gradients.zero()
        for (m, size) in sizes.enumerated() {
            options.phaseProbe?.set(step: state.globalStep, "waiting for data")
            let dataStart = Date()
            guard let batch = prefetcher.next() else {
                if m == 0 { return nil }
                throw TrainingInterrupted(step: state.globalStep)
            }
            outcome.dataWaitSeconds += Date().timeIntervalSince(dataStart)
            let n = batch.count
            precondition(n == size, "the prefetcher's batch differs from its plan")
            options.onBatch?(epoch, state.globalStep, Array(batch.indices.prefix(n)))
            var spanStart = tracer.isEnabled ? tracer.now() : 0
            options.phaseProbe?.set(step: state.globalStep, "forward")
            // Dropout masks are keyed by the micro-batch (the step itself without accumulation).
            let microStep = state.globalStep * config.accumulateSteps + m
            let logits = network.forward(batch.images.pointer, batch: n, training: true, step: microStep)
            let loss = stepLoss(batch, logits: logits, count: n)
            guard loss.isFinite else {
                throw TrainingDiverged(step: state.globalStep + 1, loss: loss, lr: Double(lr))
            }
            outcome.correct += Self.countCorrect(logits: logits, labels: Self.dominantLabels(batch), count: n, classes: classes)
            outcome.samples += n
            outcome.loss += Double(loss) * Double(n) / Double(total)
            if sizes.count > 1 {
                let share = Float(n) / Float(total)
                let d = dLogits.pointer
                for i in 0..<(n * classes) { d[i] *= share }
            }
            spanStart = traceSpan("forward", since: spanStart)
            options.phaseProbe?.set(step: state.globalStep, "backward")
            // Distributed: the buckets go out during the last micro-batch's backward, when each
            // layer's gradient is complete: one all-reduce per optimizer step.
            let last = m == sizes.count - 1
            network.backward(dLogits: dLogits.pointer, batch: n,
                             gradientReady: world > 1 && last ? { bucketer.ready($0) } : nil)
            spanStart = traceSpan("backward", since: spanStart)
        }
        if world > 1 {
            bucketer.finishStep()
            options.phaseProbe?.set(step: state.globalStep, "wait for all-reduce")
            let spanStart = tracer.isEnabled ? tracer.now() : 0
            let waitStart = Date()
            try communicator.finishAllReduces()
            outcome.communicationWaitSeconds = Date().timeIntervalSince(waitStart)
            traceSpan("wait for all-reduce", since: spanStart)
            Self.scale(network.gradients, by: 1 / Float(world))
        }
        options.phaseProbe?.set(step: state.globalStep, "optimizer")
        let spanStart = tracer.isEnabled ? tracer.now() : 0
        let report = optimizer.step(parameters: network.parameters, gradients: network.gradients, lr: lr, momentum: momentum)
        outcome.l1Penalty = report.l1Penalty
        weightAverage?.update(parameters: network.parameters, buffers: network.buffers)
        traceSpan("optimizer", since: spanStart)
        return outcome
    }
}
