import Checkpoints
import Training

extension Coordinator {
    /// Supervises the job to its end (see `Supervisor`): the summary, or the error that
    /// ended the run (exit 3 for a lost worker outside an elastic run).
    func supervise(_ members: [Member], runDirectory: RunDirectory, store: CheckpointStore,
                   fingerprint: String?, scheduler: CoordinatorScheduler) throws -> JobResult {
        try Supervisor(coordinator: self, members: members, runDirectory: runDirectory, store: store,
                       fingerprint: fingerprint, scheduler: scheduler).run()
    }
}
