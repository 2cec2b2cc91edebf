import Training

/// What a ring produced, on a worker and for the whole job: a trained run's summary, or a
/// learning-rate sweep's curve (`ringtrain lr-find --nproc N`).
public enum JobResult: Sendable {
    case trained(TrainingSummary)
    case swept(LearningRateCurve)
}
