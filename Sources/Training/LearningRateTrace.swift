/// The learning rate of every step since the last `train` line, kept as the few points that
/// redraw it: a polyline through them stays within `tolerance` of every step's rate
/// (Ramer-Douglas-Peucker). A cosine window needs a handful of points, a cyclic schedule its
/// corners, a step schedule both sides of each jump; sampling once per line would alias the
/// first and miss the others.
struct LearningRateTrace {
    private(set) var steps: [Int] = []
    private(set) var rates: [Double] = []

    mutating func append(step: Int, lr: Double) {
        steps.append(step)
        rates.append(lr)
    }

    /// The points that redraw the window within `relativeTolerance` of its largest rate, as
    /// `[step, lr]` pairs; empties the trace.
    mutating func take(relativeTolerance: Double = 0.002) -> [[Double]] {
        defer { steps = []; rates = [] }
        guard !steps.isEmpty else { return [] }
        let peak = rates.map(abs).max() ?? 0
        var keep = [Bool](repeating: false, count: steps.count)
        keep[0] = true
        keep[steps.count - 1] = true
        simplify(0, steps.count - 1, tolerance: peak * relativeTolerance, keep: &keep)
        return steps.indices.filter { keep[$0] }.map { [Double(steps[$0]), rates[$0]] }
    }

    /// Keeps the point between `a` and `b` farthest from their chord, then recurses on both
    /// halves, until every point is within `tolerance` (vertical distance: the rate at a step).
    /// An explicit stack: a long window of a noisy rate must not recurse deeply.
    private func simplify(_ a: Int, _ b: Int, tolerance: Double, keep: inout [Bool]) {
        var pending = [(a, b)]
        while let (lo, hi) = pending.popLast() {
            guard hi > lo + 1 else { continue }
            let x0 = Double(steps[lo]), y0 = rates[lo], x1 = Double(steps[hi]), y1 = rates[hi]
            var worst = lo, worstDistance = -1.0
            for i in (lo + 1)..<hi {
                let t = x1 == x0 ? 0 : (Double(steps[i]) - x0) / (x1 - x0)
                let distance = abs(rates[i] - (y0 + t * (y1 - y0)))
                if distance > worstDistance { worst = i; worstDistance = distance }
            }
            if worstDistance > tolerance {
                keep[worst] = true
                pending.append((lo, worst))
                pending.append((worst, hi))
            }
        }
    }
}
