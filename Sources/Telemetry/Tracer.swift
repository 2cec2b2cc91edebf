import Foundation

/// Records timed spans of one rank for a Chrome trace (`--timeline`): forward, backward,
/// optimizer, evaluation and checkpoint on the training thread; each bucket's encode, send,
/// receive, decode and reduce on the communication threads. A disabled tracer costs one
/// branch on a constant per call site. Only the first `maxSteps` steps after `start` are
/// recorded: a whole run would be millions of events, more than trace viewers open.
public final class Tracer: @unchecked Sendable {
    /// A row of the timeline (a Chrome-trace thread id).
    public enum Lane: Int, CaseIterable, Sendable {
        case training = 1, ringSend = 2, ringReceive = 3

        var name: String {
            switch self {
            case .training: "training"
            case .ringSend: "ring send (encode, send)"
            case .ringReceive: "ring receive (receive, decode, reduce)"
            }
        }
    }

    public static let disabled = Tracer(rank: 0, enabled: false)

    public let isEnabled: Bool
    public let rank: Int
    public let maxSteps: Int
    private let lock = NSLock()
    private var events: [TraceEvent] = []
    private var step = 0
    private var firstStep: Int?

    public init(rank: Int, enabled: Bool = true, maxSteps: Int = 200) {
        self.rank = rank
        isEnabled = enabled
        self.maxSteps = maxSteps
    }

    /// Microseconds since the Unix epoch (wall clock, so ranks on one host line up; across
    /// hosts the timeline is as aligned as their clocks).
    @inline(__always)
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
    }

    /// The step the training thread is on; spans recorded from now on carry it.
    public func setStep(_ s: Int) {
        guard isEnabled else { return }
        lock.lock()
        step = s
        if firstStep == nil { firstStep = s }
        lock.unlock()
    }

    /// Whether the current step is inside the recorded window.
    public var isRecording: Bool {
        guard isEnabled else { return false }
        lock.lock()
        defer { lock.unlock() }
        return inWindow
    }

    private var inWindow: Bool { step < (firstStep ?? step) + maxSteps }

    /// A complete span from `start` (a `now()` value) to now. `always`: also outside the
    /// window (rare phases such as checkpoints and evaluations, which would otherwise fall
    /// outside the first steps).
    public func span(_ name: String, lane: Lane, start: Double, args: [String: Int] = [:], always: Bool = false) {
        guard isEnabled else { return }
        let end = now()
        lock.lock()
        defer { lock.unlock() }
        guard inWindow || always else { return }
        var a = args
        a["step"] = step
        events.append(TraceEvent(name: name, category: lane == .training ? "compute" : "communication", phase: "X",
                                 timestamp: start, duration: max(end - start, 0), pid: rank, tid: lane.rawValue, args: a))
    }

    /// Takes the events recorded so far, preceded by the names of this rank's process and lanes.
    public func takeEvents(processName: String? = nil) -> [TraceEvent] {
        lock.lock()
        defer { lock.unlock() }
        var out = [TraceEvent.metadata("process_name", pid: rank, tid: 0, name: processName ?? "rank \(rank)"),
                   TraceEvent.metadata("process_sort_index", pid: rank, tid: 0, sortIndex: rank)]
        for lane in Lane.allCases {
            out.append(.metadata("thread_name", pid: rank, tid: lane.rawValue, name: lane.name))
            out.append(.metadata("thread_sort_index", pid: rank, tid: lane.rawValue, sortIndex: lane.rawValue))
        }
        out += events
        events.removeAll()
        return out
    }
}

/// One Chrome trace event (the JSON Trace Event Format that chrome://tracing and Perfetto open).
public struct TraceEvent: Codable, Sendable, Equatable {
    public var name: String
    public var category: String?
    /// "X": a complete span (ts + dur); "M": metadata (process and thread names).
    public var phase: String
    public var timestamp: Double?
    public var duration: Double?
    public var pid: Int
    public var tid: Int
    public var args: [String: ArgValue]?

    public enum ArgValue: Codable, Sendable, Hashable {
        case int(Int), string(String)
        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .string(let s): try c.encode(s)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, category = "cat", phase = "ph", timestamp = "ts", duration = "dur", pid, tid, args
    }

    public init(name: String, category: String?, phase: String, timestamp: Double?, duration: Double?,
                pid: Int, tid: Int, args: [String: Int]) {
        self.name = name
        self.category = category
        self.phase = phase
        self.timestamp = timestamp
        self.duration = duration
        self.pid = pid
        self.tid = tid
        self.args = args.isEmpty ? nil : args.mapValues { .int($0) }
    }

    static func metadata(_ kind: String, pid: Int, tid: Int, name: String) -> TraceEvent {
        var e = TraceEvent(name: kind, category: nil, phase: "M", timestamp: nil, duration: nil, pid: pid, tid: tid, args: [:])
        e.args = ["name": .string(name)]
        return e
    }

    static func metadata(_ kind: String, pid: Int, tid: Int, sortIndex: Int) -> TraceEvent {
        TraceEvent(name: kind, category: nil, phase: "M", timestamp: nil, duration: nil, pid: pid, tid: tid,
                   args: ["sort_index": sortIndex])
    }
}

/// The trace file: `{"traceEvents": [...], "displayTimeUnit": "ms"}`, written atomically.
public enum ChromeTrace {
    public struct File: Codable {
        public var traceEvents: [TraceEvent]
        public var displayTimeUnit = "ms"
    }

    public static func encode(_ events: [TraceEvent]) throws -> Data {
        try JSONEncoder().encode(File(traceEvents: events))
    }

    public static func write(_ events: [TraceEvent], to path: String) throws {
        do {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try encode(events).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TelemetryError("cannot write the timeline \(path): \(error.localizedDescription)")
        }
    }
}
