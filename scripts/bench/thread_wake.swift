// How long two equal halves of work take through DispatchQueue.concurrentPerform, against the
// same work alone; see docs/benchmarks.md ("A thread pool that spins"). Standalone:
//   swiftc -O scripts/bench/thread_wake.swift -o /tmp/thread_wake && /tmp/thread_wake 200
// (the argument: microseconds of idle time between calls, during which the worker may park).
import Dispatch
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
nonisolated(unsafe) var sink = 0
let idleMicroseconds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200

@inline(never) func spin(_ n: Int, _ seed: Int) {
    var x = seed
    for i in 0..<n { x = x &* 31 &+ i }
    if x == 42 { sink += 1 }
}

for n in [100_000, 1_000_000] {
    var together: [Double] = [], alone: [Double] = []
    for _ in 0..<1000 {
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: 2) { w in spin(n, w) }
        together.append(now() - t0)
        let t1 = now()
        spin(n, 2)
        alone.append(now() - t1)
        if idleMicroseconds > 0 { usleep(UInt32(idleMicroseconds)) }
    }
    together.sort(); alone.sort()
    print(String(format: "%8d iterations: one half alone %.1f us; both halves on two threads %.1f us (median)",
                 n, alone[alone.count / 2] * 1e6, together[together.count / 2] * 1e6))
}
