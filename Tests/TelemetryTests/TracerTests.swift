import Foundation
import Telemetry
import XCTest

final class TracerTests: XCTestCase {
    func testSpansCarryStepLaneAndOnlyTheWindowIsRecorded() throws {
        let t = Tracer(rank: 2, maxSteps: 3)
        for step in 10..<20 {
            t.setStep(step)
            let s = t.now()
            t.span("forward", lane: .training, start: s)
            t.span("encode", lane: .ringSend, start: s, args: ["bucket": 1])
        }
        t.span("checkpoint", lane: .training, start: t.now(), always: true)
        let events = t.takeEvents(processName: "rank 2 (test)")
        let spans = events.filter { $0.phase == "X" && $0.name != "checkpoint" }
        XCTAssertEqual(spans.count, 6, "steps 10, 11, 12 only")
        XCTAssertEqual(Set(spans.compactMap { $0.args?["step"] }), [.int(10), .int(11), .int(12)])
        XCTAssertEqual(events.filter { $0.name == "checkpoint" }.count, 1, "an always-span is kept outside the window")
        XCTAssertTrue(spans.allSatisfy { $0.pid == 2 && ($0.duration ?? -1) >= 0 })
        XCTAssertEqual(spans.first { $0.name == "encode" }?.tid, Tracer.Lane.ringSend.rawValue)
        let meta = events.filter { $0.phase == "M" }
        XCTAssertTrue(meta.contains { $0.name == "process_name" && $0.args?["name"] == .string("rank 2 (test)") })
        XCTAssertEqual(meta.filter { $0.name == "thread_name" }.count, Tracer.Lane.allCases.count)
        XCTAssertTrue(t.takeEvents().filter { $0.phase == "X" }.isEmpty, "take empties the buffer")
    }

    func testDisabledTracerRecordsNothing() {
        let t = Tracer.disabled
        t.setStep(0)
        t.span("forward", lane: .training, start: t.now())
        XCTAssertFalse(t.isRecording)
        XCTAssertTrue(t.takeEvents().filter { $0.phase == "X" }.isEmpty)
    }

    func testTraceFileIsChromeTraceJSON() throws {
        let t = Tracer(rank: 0)
        t.setStep(0)
        t.span("backward", lane: .training, start: t.now() - 1500)
        let path = NSTemporaryDirectory() + "trace-\(UUID().uuidString)/timeline.json"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try ChromeTrace.write(t.takeEvents(), to: path)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let events = try XCTUnwrap(object?["traceEvents"] as? [[String: Any]])
        let span = try XCTUnwrap(events.first { $0["ph"] as? String == "X" })
        XCTAssertEqual(span["name"] as? String, "backward")
        XCTAssertGreaterThanOrEqual(span["dur"] as? Double ?? 0, 1500)
        XCTAssertNotNil(span["ts"] as? Double)
        XCTAssertEqual(span["cat"] as? String, "compute")
    }
}
