import Checkpoints
import Codecs
import Collectives
import Datasets
import Foundation
import Training
import Transport

/// One worker (data plane): registers with the coordinator, joins the TCP ring, trains its
/// shard with the shared `Trainer`, and reports progress, weight hashes and the result.
public final class Worker {
    public struct Options {
        public var coordinator: String
        /// Dataset directory on this host (may differ per host); nil: the config's.
        public var data: String?
        /// Address to advertise to ring neighbours; nil: the address of the route to the coordinator.
        public var advertise: String?
        public var connectTimeout: Double = 120
        /// How long to keep trying to reach the right ring neighbour (already listening).
        public var ringConnectSeconds: Double = 15
        public var heartbeatSeconds: Double = 5
        /// A ring peer silent this long is an error (the job then ends with exit 3).
        public var ioTimeout: Double = 30
        /// The coordinator beats every 5 s; silent this long, it is lost (exit 3; in elastic
        /// runs the worker first tries to rejoin for `rejoinSeconds`).
        public var coordinatorTimeout: Double = 30
        public var rejoinSeconds: Double = 180
        public var log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }

        public init(coordinator: String) { self.coordinator = coordinator }
    }

    public let options: Options
    let token: [UInt8]

    public init(token: [UInt8], options: Options) {
        self.token = token
        self.options = options
    }

    /// Runs to completion. Throws a `ClusterError` carrying the exit code.
    public func run() throws {
        var tcp = TCPOptions()
        tcp.connectTimeout = options.connectTimeout
        tcp.ioTimeout = options.ioTimeout
        // A worker that re-executed itself to rejoin (below) has until RINGTRAIN_REJOIN_UNTIL.
        let rejoinUntil = ProcessInfo.processInfo.environment[Self.rejoinVariable].flatMap(Double.init)
        let (control, listener) = try join(tcp: tcp, rejoinUntil: rejoinUntil)
        let host = ProcessInfo.processInfo.hostName

        var register = ControlMessage(.register)
        register.host = host
        register.ringAddress = listener.address
        register.pid = getpid()
        var preloaded: Dataset?
        // A raw image folder is read with the run's settings (record size, channels), which
        // come with the assignment; other formats are read now, so registration carries the
        // fingerprint.
        if let dir = options.data, Dataset.detectFormat(directory: dir) != .imageFolder {
            var local = TrainingConfig()
            local.data = dir
            preloaded = try loadData(local)
            register.fingerprint = preloaded?.train.fingerprint
        }
        try control.send(register)
        if rejoinUntil != nil { options.log("[worker] re-registered with the coordinator at \(options.coordinator)") }

        // Heartbeats from registration on (a late joiner waits for the next commit point, maybe
        // longer than the coordinator's heartbeat bound), carrying the training thread's step
        // and phase for the stall inspector; on their own clock, so a long evaluation never
        // looks like a dead worker.
        let finished = FinishedFlag()
        let probe = PhaseProbe()
        probe.set(step: 0, "waiting for an assignment")
        startHeartbeat(control, probe: probe, until: finished)

        // The coordinator's heartbeats (progress messages) may reach a late joiner before its
        // assignment (its seat is alive from admission on): they are not the answer, skip them.
        let deadline = Date().addingTimeInterval(options.connectTimeout + 600)
        var (assign, initialState) = try control.receiveWithAttachment(timeout: options.connectTimeout + 600)
        while assign.kind == .progress {
            (assign, initialState) = try control.receiveWithAttachment(timeout: max(deadline.timeIntervalSinceNow, 1))
        }
        if assign.kind == .abort {
            throw ClusterError("[worker] the coordinator refused this worker: \(assign.message ?? "?")", exitCode: 2)
        }
        guard assign.kind == .assign, var config = assign.config, let runDirectory = assign.runDirectory else {
            throw ClusterError("[worker] expected an assignment from \(control.peer), got \(assign.kind)")
        }
        let firstTag = "[rank \(assign.rank ?? -1)]"
        if let dir = options.data { config.data = dir }
        let dataset: Dataset
        do {
            dataset = try preloaded ?? loadData(config)
            if let expected = assign.fingerprint, dataset.train.fingerprint != expected {
                throw ClusterError("\(firstTag) dataset \(config.data) (\(dataset.train.fingerprint)) differs from the coordinator's (\(expected))", exitCode: 2)
            }
        } catch let error as ClusterError {
            // Bad input, not a lost peer: the coordinator ends the run with this message.
            Self.tell(control, error)
            throw error
        }
        let elastic = (assign.minWorkers ?? assign.worldSize ?? 0) < (assign.worldSize ?? 0)
        unsetenv(Self.rejoinVariable)

        // Watch the control connection: an abort, or the coordinator going away, ends this
        // process at once (exit 3), so no worker ever outlives its job. Once training is done,
        // the coordinator closing the connection is the normal end (exit 0). In elastic runs an
        // interrupt closes the current ring (the step in flight fails at once) and the next
        // assignment goes to the training thread through the mailbox.
        let mailbox = AssignmentMailbox()
        startWatcher(control, mailbox: mailbox, finished: finished, elastic: elastic)

        var current = (message: assign, state: initialState)
        while true {
            // Each ring's own config: a re-formed elastic ring may scale the per-worker batch.
            var ringConfig = current.message.config ?? config
            ringConfig.data = config.data
            do {
                let result = try trainOneRing(current.message, initialState: current.state, config: ringConfig, dataset: dataset,
                                              runDirectory: runDirectory, listener: listener, tcp: tcp, control: control,
                                              mailbox: mailbox, probe: probe)
                var done = ControlMessage(.done)
                switch result {
                case .trained(let summary): done.summary = summary
                case .swept(let curve): done.lrCurve = curve
                }
                done.generation = current.message.generation ?? 0
                finished.set()
                try control.send(done)
                return
            } catch let lost as RingLost where elastic {
                // Alive, ring gone: say so, and wait for the coordinator's next ring.
                var broken = ControlMessage(.ringBroken)
                broken.message = "\(lost.underlying)"
                broken.step = probe.read().step
                try control.send(broken)
                options.log("[worker] ring broken (\(lost.underlying)); waiting for the coordinator to re-form it")
                guard let next = mailbox.take(timeout: options.coordinatorTimeout + 60) else {
                    throw ClusterError("[worker] the coordinator did not re-form the ring in time", exitCode: 3)
                }
                current = next
            } catch let lost as RingLost {
                var failed = ControlMessage(.failed)
                failed.message = "\(lost.underlying)"
                failed.exitCode = 3
                try? control.send(failed)
                throw ClusterError("[worker] \(lost.underlying)", exitCode: 3)
            } catch let error as ClusterError {
                Self.tell(control, error)
                throw error
            } catch {
                // A config or data problem (a label out of range, a model that does not fit the
                // images) is bad input, exit 2, as `train` says it; anything else exit 1.
                let badInput = error is ConfigurationError || error is DatasetError
                let failure = ClusterError("[worker] \(error)", exitCode: badInput ? 2 : 1)
                Self.tell(control, failure)
                throw failure
            }
        }
    }

    /// The authenticated control connection to the coordinator, and this worker's ring
    /// listener on the address that reaches it (or `--advertise`).
    func join(tcp: TCPOptions, rejoinUntil: Double?) throws -> (ControlChannel, TCPListener) {
        let connectDeadline = rejoinUntil.map { max(1, $0 - Date().timeIntervalSince1970) } ?? options.connectTimeout
        let connection: TCPConnection
        do {
            // Retried within the deadline: a coordinator busy with strangers may drop us once.
            (connection, _) = try Handshake.connect(options.coordinator, rank: 0, worldSize: 0, token: token, options: tcp,
                                                    deadline: connectDeadline)
        } catch {
            throw ClusterError("[worker] cannot join the coordinator (hop \(ProcessInfo.processInfo.hostName) -> coordinator at \(options.coordinator)): \(error)", exitCode: 3)
        }
        guard let advertise = options.advertise ?? connection.localHost else {
            connection.close()
            throw ClusterError("[worker] cannot tell which address reaches the coordinator; give --advertise HOST", exitCode: 2)
        }
        do {
            return (ControlChannel(connection: connection), try TCPListener(host: advertise, port: 0, options: tcp))
        } catch {
            connection.close()
            throw ClusterError("[worker] cannot listen for ring neighbours on \(advertise): \(error)", exitCode: 2)
        }
    }

    /// Beats to the coordinator every `heartbeatSeconds` with the training thread's step and
    /// phase, until `finished`.
    func startHeartbeat(_ control: ControlChannel, probe: PhaseProbe, until finished: FinishedFlag) {
        let heartbeat = Thread { [options] in
            while !finished.isSet {
                Thread.sleep(forTimeInterval: options.heartbeatSeconds)
                var beat = ControlMessage(.progress)
                (beat.step, beat.phase) = probe.read()
                try? control.send(beat)
            }
        }
        heartbeat.start()
    }

    /// Reads the coordinator's messages for the rest of the process: an abort, or the
    /// coordinator going away, ends the process (exit 3; exit 0 once `finished`); interrupts,
    /// assignments and verdicts go to the training thread through `mailbox`.
    func startWatcher(_ control: ControlChannel, mailbox: AssignmentMailbox, finished: FinishedFlag, elastic: Bool) {
        let watcher = Thread { [options] in
            while true {
                do {
                    let (m, attachment) = try control.receiveWithAttachment(timeout: options.coordinatorTimeout)
                    switch m.kind {
                    case .abort:
                        options.log("[worker] aborting: \(m.message ?? "the coordinator stopped the run")")
                        exit(3)
                    case .interrupt:
                        mailbox.interruptRing(generation: m.generation)
                    case .assign:
                        mailbox.put(m, attachment)
                    case .schedule:
                        mailbox.putSchedule(m)
                    default:
                        break
                    }
                } catch {
                    if finished.isSet { exit(0) }
                    options.log("[worker] lost the coordinator: \(error)")
                    if elastic { Self.reexecToRejoin(within: options.rejoinSeconds, log: options.log) }
                    exit(3)
                }
            }
        }
        watcher.start()
    }

    /// One ring: connect to the neighbours of this assignment, check the ring end to end, and
    /// train (from the assignment's checkpoint, if any) to the end, or run the assignment's
    /// learning-rate sweep. A lost peer, a broken link or an interrupt from the coordinator is
    /// thrown as `RingLost`.
    func trainOneRing(_ assign: ControlMessage, initialState: [UInt8], config: TrainingConfig, dataset: Dataset,
                      runDirectory: String, listener: TCPListener, tcp: TCPOptions, control: ControlChannel,
                      mailbox: AssignmentMailbox, probe: PhaseProbe) throws -> JobResult {
        guard let rank = assign.rank, let world = assign.worldSize, let addresses = assign.addresses else {
            throw ClusterError("[worker] an assignment from \(control.peer) lacks rank, world size or addresses")
        }
        // Values from the wire are checked before any arithmetic or indexing uses them.
        guard world >= 1, world <= 65_536, addresses.count == world, (0..<world).contains(rank) else {
            throw ClusterError("[worker] an assignment from \(control.peer) does not add up: rank \(rank) of world size \(world) with \(addresses.count) ring addresses")
        }
        let tag = "[rank \(rank)]"
        // `auto`: a zstd ring whose compression the trainer switches on or off from measured
        // step times (CodecAutoSelector); the config was validated.
        let kind = config.codec == "auto" ? .zstd : CodecKind(rawValue: config.codec) ?? .none
        let codec = CodecConfig(kind, zstdLevel: Int32(config.zstdLevel))
        let communicator: RingCommunicator
        let right = (rank + 1) % world, left = (rank + world - 1) % world
        probe.set(step: probe.read().step, "forming the ring: connecting to rank \(right) (\(addresses[right])), waiting for rank \(left) (\(addresses[left]))")
        // An interrupt of this generation (a member lost while the ring forms, even before
        // this line) cancels the formation: this worker then reports its ring broken at once.
        let formation = mailbox.beginForming(generation: assign.generation ?? 0)
        do {
            // Every member registered its listener before the assignment went out, so a right
            // neighbour that cannot be reached within `ringConnectSeconds` is unreachable, not late.
            communicator = try TCPRing.communicator(rank: rank, addresses: addresses, token: token, listener: listener,
                                                    codec: codec, options: tcp, rightDeadline: options.ringConnectSeconds,
                                                    cancel: formation)
            mailbox.setRing(communicator, generation: assign.generation ?? 0)
            // End-to-end ring check before step 1: every rank's number travels around the ring.
            let ranks = try communicator.allGather([Double(rank)])
            guard ranks.map({ $0.first ?? -1 }) == (0..<world).map(Double.init) else {
                throw ClusterError("\(tag) ring check failed: got ranks \(ranks)")
            }
        } catch {
            throw RingLost(underlying: ClusterError("\(tag) cannot form the ring before step 1 on host \(ProcessInfo.processInfo.hostName): \(error)"))
        }
        defer { communicator.close() }
        var ready = ControlMessage(.ringReady)
        ready.generation = assign.generation
        try control.send(ready)

        var trainerOptions = Trainer.Options(runDirectory: runDirectory, resume: assign.resume ?? false)
        // The coordinator writes the run directory; workers never touch its disk.
        trainerOptions.writesRunDirectory = false
        trainerOptions.phaseProbe = probe
        // The coordinator prints the run's summary, test figures included.
        trainerOptions.announcesTest = false
        if !initialState.isEmpty {
            trainerOptions.initialCheckpoint = try SafeTensorsFile.parse(bytes: initialState, path: "\(control.peer):latest checkpoint",
                                                                         integrity: .required)
        }
        if rank == 0 {
            trainerOptions.progress = ProgressLine(interval: config.progressSeconds, sink: { text, isProgress in
                var p = ControlMessage(isProgress ? .progress : .log)
                p.message = text
                try? control.send(p)
            })
            trainerOptions.metricsSink = { fields in
                var m = ControlMessage(.metrics)
                if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) {
                    m.record = String(decoding: data, as: UTF8.self)
                    try? control.send(m)
                }
            }
        }
        // The coordinator takes the plateau and early-stopping decisions: rank 0 reports each
        // validation result, and every rank waits for the verdict before its next step.
        trainerOptions.scheduleAuthority = { [options] observation in
            if rank == 0 {
                var report = ControlMessage(.evaluation)
                report.step = observation.step
                report.epoch = observation.epoch
                report.generation = assign.generation ?? 0
                report.metric = "\(observation.metric)"
                report.scheduler = String(decoding: try JSONEncoder().encode(observation.scheduler), as: UTF8.self)
                try control.send(report)
            }
            return try mailbox.takeSchedule(step: observation.step, timeout: options.coordinatorTimeout, rank: rank)
        }
        trainerOptions.traceSink = { events in
            try control.send(ControlMessage(.trace), attachment: [UInt8](try JSONEncoder().encode(events)))
        }
        trainerOptions.checkpointSink = { p in
            var part = ControlMessage(.checkpointPart)
            part.step = p.step
            part.generation = assign.generation ?? 0
            part.commit = p.commitOnly ? true : nil
            part.hash = p.weightsHash
            part.hashedTensors = p.hashedTensors > 0 ? p.hashedTensors : nil
            part.state = p.state
            part.tensors = p.tensors.map { TensorEntry(name: $0.name, shape: $0.shape, count: $0.values.count) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(p.tensors.reduce(0) { $0 + $1.values.count * 4 })
            for t in p.tensors { t.values.withUnsafeBytes { bytes.append(contentsOf: $0) } }
            try control.send(part, attachment: bytes)
        }
        do {
            let trainer = try Trainer(config: config, options: trainerOptions, communicator: communicator, dataset: dataset)
            if let sweep = assign.lrSweep { return .swept(try trainer.findLearningRate(sweep)) }
            return .trained(try trainer.run())
        } catch let error where error is TransportError || error is RingError {
            throw RingLost(underlying: error)
        }
    }

    static let rejoinVariable = "RINGTRAIN_REJOIN_UNTIL"

    /// Elastic runs: a worker cut off from the coordinator (a link down, the coordinator's
    /// host rebooting) starts over as a fresh worker of the same job: it re-executes itself
    /// with the same arguments (same pid, so launch scripts still track it) and tries to
    /// register again until `seconds` have passed; the coordinator admits it into the ring at
    /// the next commit point. Its in-memory state is dropped: it resumes from the checkpoint
    /// it is sent, like every member of a re-formed ring.
    static func reexecToRejoin(within seconds: Double, log: (String) -> Void) {
        let until = ProcessInfo.processInfo.environment[rejoinVariable].flatMap(Double.init)
            ?? Date().timeIntervalSince1970 + seconds
        guard until > Date().timeIntervalSince1970 else { return }
        setenv(rejoinVariable, String(until), 1)
        log("[worker] trying to rejoin for \(Int(until - Date().timeIntervalSince1970)) s")
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        log("[worker] cannot re-execute /proc/self/exe: \(String(cString: strerror(errno)))")
    }

    /// Tells the coordinator why this worker stops (best effort: it may be gone already).
    static func tell(_ control: ControlChannel, _ error: ClusterError) {
        var failed = ControlMessage(.failed)
        failed.message = error.message
        failed.exitCode = error.exitCode
        try? control.send(failed)
    }

    func loadData(_ config: TrainingConfig) throws -> Dataset {
        do {
            return try config.loadDataset()
        } catch {
            throw ClusterError("[worker] \(error)", exitCode: 2)
        }
    }
}

/// A flag one thread sets and another reads.
final class FinishedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// The ring of this generation is gone (a peer died, a link broke, the coordinator
/// interrupted it); the process itself is fine.
public struct RingLost: Error, CustomStringConvertible {
    public let underlying: Error
    public var description: String { "ring lost: \(underlying)" }
}

/// What the mailbox closes when the coordinator interrupts a ring.
public protocol Closable: AnyObject {
    func close()
}

extension RingCommunicator: Closable {}

/// Hands the coordinator's messages from the watcher thread to the training thread: the next
/// assignment, and the scheduling verdicts of the current ring; and lets the watcher stop the
/// current ring, formed (closed, so a blocked step or a wait for a verdict fails at once) or
/// still forming (cancelled). Interrupts carry the generation they stop, so one that arrives
/// before its ring starts forming is not lost, and a late one for an older ring is ignored.
public final class AssignmentMailbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var next: (message: ControlMessage, state: [UInt8])?
    private var ring: Closable?
    /// The ring generation whose verdicts are wanted, the verdicts by step, and the newest
    /// generation the coordinator interrupted.
    private var generation = 0
    private var verdicts: [Int: ScheduleVerdict] = [:]
    private var interruptedGeneration = -1
    private var forming: (generation: Int, cancel: FormationCancel)?

    public init() {}

    private var interrupted: Bool { interruptedGeneration >= generation }

    /// A ring of `generation` starts forming: its cancel handle, already cancelled if the
    /// coordinator interrupted that generation before.
    public func beginForming(generation g: Int) -> FormationCancel {
        let cancel = FormationCancel()
        condition.lock()
        generation = g
        verdicts = [:]
        forming = (g, cancel)
        let stopped = interruptedGeneration >= g
        condition.unlock()
        if stopped { cancel.cancel() }
        return cancel
    }

    /// A new ring: verdicts of earlier generations are dropped (they belong to steps the new
    /// ring replays).
    public func setRing(_ communicator: Closable, generation g: Int) {
        condition.lock()
        ring = communicator
        generation = g
        verdicts = [:]
        forming = nil
        let stopped = interruptedGeneration >= g
        condition.unlock()
        if stopped { communicator.close() }
    }

    /// Stops the ring of `generation` (nil: whatever ring is current) and any older one.
    public func interruptRing(generation g: Int? = nil) {
        condition.lock()
        let target = g ?? generation
        interruptedGeneration = max(interruptedGeneration, target)
        let r = generation <= target ? ring : nil
        let f = forming.flatMap { $0.generation <= target ? $0.cancel : nil }
        condition.broadcast()
        condition.unlock()
        r?.close()
        f?.cancel()
    }

    /// A `schedule` message from the coordinator; kept if it is for the current ring.
    public func putSchedule(_ message: ControlMessage) {
        guard let step = message.step, let verdict = message.verdict else { return }
        condition.lock()
        if (message.generation ?? 0) == generation {
            verdicts[step] = verdict
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Waits for the coordinator's verdict on the validation of `step`. An interrupt of the
    /// ring ends the wait as a lost ring; silence past `timeout` is a lost coordinator.
    public func takeSchedule(step: Int, timeout: Double, rank: Int) throws -> ScheduleVerdict {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let verdict = verdicts.removeValue(forKey: step) { return verdict }
            if interrupted {
                throw RingLost(underlying: ClusterError("[rank \(rank)] the coordinator interrupted the ring while this rank waited for its scheduling decision on step \(step)", exitCode: 3))
            }
            guard Date() < deadline else {
                throw ClusterError("[rank \(rank)] the coordinator sent no scheduling decision for the validation of step \(step) within \(Int(timeout)) s", exitCode: 3)
            }
            _ = condition.wait(until: deadline)
        }
    }

    func put(_ message: ControlMessage, _ state: [UInt8]) {
        condition.lock()
        next = (message, state)
        condition.broadcast()
        condition.unlock()
    }

    func take(timeout: Double) -> (message: ControlMessage, state: [UInt8])? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while next == nil && Date() < deadline { _ = condition.wait(until: deadline) }
        defer { next = nil }
        return next
    }
}
