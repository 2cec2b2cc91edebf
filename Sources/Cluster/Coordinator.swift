import Checkpoints
import Datasets
import Foundation
import Telemetry
import Training
import Transport

/// The control plane (DESIGN.md §2): accepts and authenticates worker registrations, assigns
/// ranks with workers of one host adjacent in the ring, sends every worker the resolved
/// config and the ring addresses, checks the weight hashes at every checkpoint, merges
/// progress, and detects dead workers (a closed control connection or a missed heartbeat).
/// It is never in the gradient path.
public final class Coordinator {
    public struct Options {
        public var worldSize: Int
        public var config: TrainingConfig
        public var runDirectory: String
        public var resume: Bool = false
        /// How long to wait for all workers to register.
        public var rendezvousTimeout: Double = 120
        /// A worker silent for this long is declared lost (workers beat every 5 s).
        public var heartbeatTimeout: Double = 30
        /// The coordinator beats to every worker this often, so workers notice a lost
        /// coordinator (a dead host, a cut link: no FIN) within their own bound.
        public var heartbeatInterval: Double = 5
        /// Report a stall (which rank is where) when no step completes for this long, or 20
        /// median steps if that is longer; before the heartbeat timeout ends the run.
        public var stallSeconds: Double = 10
        /// Elastic continuation: when a worker is lost, re-form the ring from the survivors and
        /// continue from the last checkpoint while at least this many remain (default: the
        /// world size, i.e. any loss ends the run with exit 3, resumable).
        public var minWorkers: Int?
        /// `ringtrain lr-find --nproc N`: the ring runs this learning-rate sweep instead of
        /// training (`findLearningRate()`).
        public var lrSweep: LearningRateSweep?
        /// Elastic runs: how long the survivors have to report their broken ring after an
        /// interrupt; one that does not is dropped from the new ring.
        public var reformSettleSeconds: Double = 10
        public var log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }

        public init(worldSize: Int, config: TrainingConfig, runDirectory: String) {
            self.worldSize = worldSize
            self.config = config
            self.runDirectory = runDirectory
        }
    }

    struct Member {
        let channel: ControlChannel
        let host: String
        let ringAddress: String
        let pid: Int32
        var rank = -1
    }

    public let listener: TCPListener
    public let options: Options
    let token: [UInt8]
    /// Connections still in their handshake: bounded overall and per address, the oldest
    /// evicted by newcomers, so strangers never cost more than a fixed number of threads and
    /// descriptors, and never lock out a worker.
    public let handshakes = HandshakeSlots(capacity: 64, perSource: 32)
    lazy var handshakeThreads = HandshakePool(slots: handshakes, name: "coordinator-handshake")
    /// At most one refusal line per address every 10 s, with the count of the others.
    let refusals = RefusalLog()

    public init(listener: TCPListener, token: [UInt8], options: Options) {
        self.listener = listener
        self.token = token
        self.options = options
    }

    public var address: String { listener.address }

    /// Runs the whole job: rendezvous, training supervision, checkpoints, completion. Returns
    /// the summary; throws a `ClusterError` whose `exitCode` the command line uses.
    public func run() throws -> TrainingSummary {
        guard options.lrSweep == nil, case .trained(let summary) = try runJob() else {
            throw ClusterError("[coordinator] rank 0 sent a learning-rate curve, not a training summary")
        }
        return summary
    }

    /// Runs `options.lrSweep` on the ring (rendezvous and supervision as for training; no
    /// checkpoints); writes RUN_DIR/lr_find.json and returns the curve.
    public func findLearningRate() throws -> LearningRateCurve {
        guard options.lrSweep != nil, !options.resume else {
            throw ClusterError("[coordinator] a learning-rate sweep needs a sweep and no --resume", exitCode: 2)
        }
        guard case .swept(let curve) = try runJob() else {
            throw ClusterError("[coordinator] rank 0 sent a training summary, not a learning-rate curve")
        }
        return curve
    }

    func runJob() throws -> JobResult {
        let runDirectory: RunDirectory
        do {
            runDirectory = try RunDirectory(path: options.runDirectory, tensorboard: options.config.tensorboard)
        } catch {
            throw ClusterError("[coordinator] \(error)", exitCode: 2)
        }
        let store = CheckpointStore(runDirectory: options.runDirectory, keep: options.config.keepCheckpoints,
                                    onWarning: { [options] in options.log("[coordinator] warning: \($0)") })
        var initialState: [UInt8] = []
        var scheduler = CoordinatorScheduler()
        if options.resume {
            let model = try? Trainer.modelSpec(options.config)
            guard let loaded = store.latestValid(accepting: { file in model.flatMap { Trainer.rejection(of: file, model: $0) } }) else {
                throw ClusterError("[coordinator] --resume: no valid checkpoint in \(store.directory); start without --resume", exitCode: 2)
            }
            guard let bytes = FileManager.default.contents(atPath: loaded.path) else {
                throw ClusterError("[coordinator] cannot read \(loaded.path)", exitCode: 2)
            }
            initialState = [UInt8](bytes)
            do {
                scheduler = try CoordinatorScheduler(checkpoint: initialState, source: loaded.path)
            } catch {
                throw ClusterError("[coordinator] --resume: \(error)", exitCode: 2)
            }
            try? runDirectory.truncateMetrics(after: loaded.step)
            options.log("[coordinator] resuming from \(loaded.path) (step \(loaded.step))")
        }
        do {
            try runDirectory.writeConfig(options.config)
        } catch {
            throw ClusterError("[coordinator] cannot write \(options.runDirectory)/config.json: \(error)", exitCode: 2)
        }
        let fingerprint = try? options.config.loadDataset().train.fingerprint
        var members = try rendezvous(expectedFingerprint: fingerprint)
        assignRanks(&members)
        let addresses = members.sorted { $0.rank < $1.rank }.map(\.ringAddress)
        for m in members {
            var a = assignment(rank: m.rank, addresses: addresses, resume: options.resume, generation: 0)
            a.fingerprint = fingerprint
            try m.channel.send(a, attachment: initialState)
        }
        options.log("[coordinator] ring: " + members.sorted { $0.rank < $1.rank }
            .map { "rank \($0.rank) = \($0.host) \($0.ringAddress)" }.joined(separator: ", "))
        let result = try supervise(members, runDirectory: runDirectory, store: store, fingerprint: fingerprint,
                                   scheduler: scheduler)
        // Training is done and its checkpoints are written: a full disk at this point costs
        // the file, not the result (the command prints the summary or the suggestion).
        switch result {
        case .trained(let summary):
            do { try runDirectory.writeSummary(summary) } catch {
                options.log("[coordinator] warning: cannot write \(options.runDirectory)/summary.json (the summary is printed on stdout instead): \(error)")
            }
        case .swept(let curve):
            do { try runDirectory.writeLearningRateCurve(curve) } catch {
                options.log("[coordinator] warning: cannot write \(options.runDirectory)/\(LearningRateCurve.fileName) (the suggestion is printed on stdout instead): \(error)")
            }
        }
        if runDirectory.droppedMetricsLines > 0 {
            options.log("[coordinator] warning: \(runDirectory.droppedMetricsLines) lines of \(runDirectory.metricsPath) could not be written")
        }
        runDirectory.close()
        return result
    }

    /// The `assign` message for one rank of a ring of `addresses.count` workers.
    func assignment(rank: Int, addresses: [String], resume: Bool, generation: Int) -> ControlMessage {
        var a = ControlMessage(.assign)
        a.rank = rank
        a.worldSize = addresses.count
        a.addresses = addresses
        a.config = Self.ringConfig(options.config, workers: addresses.count, plannedWorkers: options.worldSize)
        a.runDirectory = options.runDirectory
        a.resume = resume
        a.minWorkers = options.minWorkers ?? options.worldSize
        a.generation = generation
        a.lrSweep = options.lrSweep
        return a
    }

    /// The config of a ring of `workers` in a run planned for `plannedWorkers`: with
    /// `elastic_batch: global` each worker's batch is scaled so the global batch stays
    /// (rounded to the nearest whole sample; the sampler hands each step the same contiguous
    /// block of its order whatever the world size), and a linearly scaled learning rate
    /// keeps the planned world's value.
    static func ringConfig(_ config: TrainingConfig, workers: Int, plannedWorkers: Int) -> TrainingConfig {
        guard workers != plannedWorkers, workers > 0, config.elasticBatch == "global" else { return config }
        var c = config
        let global = config.batchSize * plannedWorkers
        c.batchSize = max(1, (global + workers / 2) / workers)
        if config.lrScaling == "linear" { c.lr = config.lr * Double(plannedWorkers) / Double(workers) }
        return c
    }

    /// "; batch 24 per worker (global 48 kept)" for the re-formation log line.
    static func batchNote(_ config: TrainingConfig, workers: Int, plannedWorkers: Int) -> String {
        let c = ringConfig(config, workers: workers, plannedWorkers: plannedWorkers)
        return c.batchSize == config.batchSize ? "" : "; batch \(c.batchSize) per worker (global \(c.batchSize * workers), planned \(config.batchSize * plannedWorkers))"
    }

    /// Waits for `worldSize` authenticated registrations before the deadline; names who is missing.
    /// Every connection is admitted on its own thread, so a peer that connects and stalls (a
    /// slow-loris), sends garbage or has the wrong token costs only its own handshake deadline
    /// and never delays the real workers.
    func rendezvous(expectedFingerprint: String?) throws -> [Member] {
        let lock = NSLock()
        var members: [Member] = []
        var closed = false
        let deadline = Date().addingTimeInterval(options.rendezvousTimeout)
        while true {
            lock.lock()
            let enough = members.count >= options.worldSize
            lock.unlock()
            if enough { break }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                lock.lock()
                closed = true
                let seen = members.map { "\($0.host) (pid \($0.pid))" }.joined(separator: ", ")
                let count = members.count
                lock.unlock()
                throw ClusterError("[coordinator] rendezvous timed out after \(Int(options.rendezvousTimeout)) s: \(count) of \(options.worldSize) workers registered" + (seen.isEmpty ? "" : ": \(seen)") + "; the others never connected to \(address)")
            }
            guard handshakes.makeRoom(timeout: 0.25),
                  let connection = try? listener.accept(timeout: min(left, 0.25)) else { continue }
            admit(connection, expectedFingerprint: expectedFingerprint) { [self] member in
                lock.lock()
                if closed || members.count >= options.worldSize {
                    lock.unlock()
                    refuse(member.channel, host: member.host, because: "the job already has its \(options.worldSize) workers")
                    return
                }
                members.append(member)
                options.log("[coordinator] worker \(members.count)/\(options.worldSize) registered: \(member.host) pid \(member.pid), ring address \(member.ringAddress)")
                lock.unlock()
            }
        }
        lock.lock()
        closed = true
        let result = members
        lock.unlock()
        logRefusalCounts()
        return result
    }

    /// Says how many refusals the rate limit held back, and how many strangers were evicted.
    func logRefusalCounts() {
        for line in refusals.flush(prefix: "[coordinator] ") { options.log(line) }
        let evicted = handshakes.takeEvictions()
        if evicted > 0 {
            options.log("[coordinator] \(evicted) connections were dropped before finishing their handshake (more than \(handshakes.perSource) from one address or \(handshakes.capacity) in all were pending)")
        }
    }

    /// Tells a registered worker why it is not wanted (an `abort` it prints), logs it, hangs up.
    func refuse(_ channel: ControlChannel, host: String, because reason: String) {
        var abort = ControlMessage(.abort)
        abort.message = reason
        try? channel.send(abort, timeout: 2)
        options.log("[coordinator] refused worker on \(host): \(reason)")
        channel.close()
    }

    /// Handshake (on a pool thread, bounded: see `handshakes`) and then registration (on a
    /// thread of its own: the peer holds the token) of one connection; `registered` gets the
    /// member. A connection that fails either is logged with the peer's address (refusals
    /// rate-limited) and closed; so is one whose dataset differs from the coordinator's.
    func admit(_ connection: TCPConnection, expectedFingerprint: String?, registered: @escaping (Member) -> Void) {
        handshakeThreads.submit(connection) { [self] connection, ticket in
            do {
                _ = try Handshake.server(connection, rank: 0, worldSize: 0, token: token, timeout: 10)
                handshakes.release(ticket)
            } catch {
                // A connection cut off to make room failed because of the bound, not the
                // peer: it is counted there, not logged as a refusal.
                if handshakes.release(ticket),
                   let line = refusals.line(source: ticket.source, "[coordinator] refused a connection from \(connection.peer): \(error)") {
                    options.log(line)
                }
                connection.close()
                return
            }
            let t = Thread { [self] in
                if let member = register(ControlChannel(connection: connection), expectedFingerprint: expectedFingerprint) {
                    registered(member)
                }
            }
            t.name = "coordinator-admit"
            t.start()
        }
    }

    /// The registration message of an authenticated worker; nil (logged) if it is not one.
    func register(_ channel: ControlChannel, expectedFingerprint: String?) -> Member? {
        do {
            let r = try channel.receive(timeout: 30)
            guard r.kind == .register, let host = r.host, let ring = r.ringAddress else {
                throw ClusterError("expected a registration, got \(r.kind)")
            }
            if let expected = expectedFingerprint, let theirs = r.fingerprint, theirs != expected {
                refuse(channel, host: host, because: "its dataset (fingerprint \(theirs)) differs from the coordinator's (\(expected))")
                return nil
            }
            return Member(channel: channel, host: host, ringAddress: ring, pid: r.pid ?? 0)
        } catch {
            options.log("[coordinator] dropped \(channel.peer) during registration: \(error)")
            channel.close()
            return nil
        }
    }

    /// Ranks in order of host (first registration of each host first), then registration:
    /// workers of one host sit next to each other in the ring, so most hops stay local.
    func assignRanks(_ members: inout [Member]) {
        var hostOrder: [String] = []
        for m in members where !hostOrder.contains(m.host) { hostOrder.append(m.host) }
        let order = members.indices.sorted {
            let a = hostOrder.firstIndex(of: members[$0].host)!, b = hostOrder.firstIndex(of: members[$1].host)!
            return a != b ? a < b : $0 < $1
        }
        for (rank, i) in order.enumerated() { members[i].rank = rank }
    }

    /// The parts of one checkpoint, as they arrive from the ranks.
    struct PendingCheckpoint {
        var hashes: [Int: String] = [:]
        var tensors: [Int: [SafeTensor]] = [:]
        var state: String?
        var commit = false
        /// Rank 0's count of leading tensors its weights hash covers.
        var hashedTensors: Int?
    }

    /// Why an assembled checkpoint must not be written (nil: it may): its first `hashed`
    /// tensors, the weights, do not hash to `agreed`, the SHA-256 every rank reported.
    public static func weightsMismatch(_ tensors: [SafeTensor], hashed: Int, agreed: String) -> String? {
        guard hashed >= 1, hashed <= tensors.count else {
            return "rank 0 says its first \(hashed) tensors are the weights, of \(tensors.count)"
        }
        let written = SafeTensor.contentSHA256(tensors.prefix(hashed))
        guard written != agreed else { return nil }
        return "its weights (\(tensors.prefix(hashed).map(\.name).joined(separator: ", "))) hash to \(written.prefix(16)), not to the weights the ranks agreed on (\(agreed.prefix(16)))"
    }

    /// A checkpoint part's tensors from its attachment: every entry's count must be its shape's
    /// product, the entries must fill the attachment exactly, and nothing may overflow. A part
    /// that does not add up is an error (never a trap, never a shorter checkpoint): a file
    /// written from it would pass its checksums and fail every resume.
    public static func decodeTensors(_ entries: [TensorEntry], _ bytes: [UInt8]) throws -> [SafeTensor] {
        var offset = 0
        var out: [SafeTensor] = []
        for e in entries {
            var product = 1
            for d in e.shape {
                let (p, overflow) = product.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw PartError("tensor \(e.name): shape \(e.shape) is not a valid shape") }
                product = p
            }
            guard e.count == product else {
                throw PartError("tensor \(e.name): count \(e.count) is not the product of its shape \(e.shape)")
            }
            let (size, overflow) = e.count.multipliedReportingOverflow(by: 4)
            guard !overflow, size <= bytes.count - offset else {
                throw PartError("tensor \(e.name): \(e.count) values at byte \(offset) run past the \(bytes.count)-byte attachment")
            }
            var values = [Float](repeating: 0, count: e.count)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + size)])) }
            }
            out.append(SafeTensor(name: e.name, shape: e.shape, values: values))
            offset += size
        }
        guard offset == bytes.count else {
            throw PartError("the tensors take \(offset) of the attachment's \(bytes.count) bytes")
        }
        return out
    }

    /// A checkpoint part that does not add up (`decodeTensors`).
    public struct PartError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
