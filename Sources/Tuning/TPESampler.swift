import Foundation
import Tensors

/// The Tree-structured Parzen Estimator (Bergstra et al. 2011), as Optuna's `TPESampler`
/// runs it by default: the first `startupTrials` trials are random; after them, the finished
/// trials are split into the best γ(n) = min(⌈0.1·n⌉, 25) ("good") and the rest, each
/// dimension gets a Parzen density over each group (one Gaussian per trial plus a prior
/// component spanning the range; log scale for log_uniform), `candidates` values are drawn
/// from the good density and the one maximising l(x) / g(x) is proposed. Dimensions are
/// independent (Optuna's default, `multivariate=False`). A choice dimension uses category
/// frequencies with a prior weight of 1.
///
/// Every proposal is a pure function of (seed, trial index, the results so far), so a
/// resumed search proposes what the uninterrupted one did.
public struct TPESampler: Sendable {
    public let space: SearchSpace
    public let seed: UInt64
    public var startupTrials = 10
    public var candidates = 24

    public init(space: SearchSpace, seed: UInt64) {
        self.space = space
        self.seed = seed
    }

    /// γ(n): how many of n finished trials count as good.
    public static func goodCount(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// The values of trial `index` given the finished trials' (values, score), higher score better.
    public func propose(index: Int, history: [(values: [String: JSONValue], score: Double)]) -> [String: JSONValue] {
        guard history.count >= startupTrials else { return space.sample(seed: seed, index: index) }
        let ranked = history.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
        let k = max(Self.goodCount(history.count), 1)
        let good = ranked.prefix(k).map(\.element.values), bad = ranked.dropFirst(k).map(\.element.values)
        var out: [String: JSONValue] = [:]
        for (d, dimension) in space.dimensions.enumerated() {
            var rng = CounterRNG(seed: seed, purpose: .hyperparameterSearch, a: UInt64(index), b: UInt64(d + 1) << 32)
            out[dimension.key] = proposeValue(dimension, good: good.compactMap { $0[dimension.key] },
                                              bad: bad.compactMap { $0[dimension.key] }, rng: &rng)
        }
        return out
    }

    func proposeValue(_ d: SearchSpace.Dimension, good: [JSONValue], bad: [JSONValue], rng: inout CounterRNG) -> JSONValue {
        switch d.distribution {
        case .choice(let values):
            let l = Self.categorical(values, good), g = Self.categorical(values, bad)
            var best = 0, bestRatio = -Double.infinity
            for _ in 0..<candidates {
                let i = Self.draw(l, Self.unit(&rng))
                let ratio = log(l[i]) - log(g[i])
                if ratio > bestRatio { bestRatio = ratio; best = i }
            }
            return values[best]
        case .uniform(let lo, let hi):
            return .number(numeric(lo, hi, good, bad, &rng, transform: { $0 }, inverse: { $0 }))
        case .logUniform(let lo, let hi):
            return .number(numeric(log(lo), log(hi), good, bad, &rng, transform: { log($0) }, inverse: { exp($0) }))
        case .intUniform(let lo, let hi):
            // Optuna's IntDistribution: a continuous range widened by half a step, rounded.
            let x = numeric(Double(lo) - 0.5, Double(hi) + 0.5, good, bad, &rng, transform: { $0 }, inverse: { $0 })
            return .number(Double(min(max(Int(x.rounded()), lo), hi)))
        }
    }

    /// The candidate maximising l/g for a numeric dimension, in the transformed (search) space.
    func numeric(_ lo: Double, _ hi: Double, _ good: [JSONValue], _ bad: [JSONValue], _ rng: inout CounterRNG,
                 transform: (Double) -> Double, inverse: (Double) -> Double) -> Double {
        func numbers(_ v: [JSONValue]) -> [Double] {
            v.compactMap { if case .number(let x) = $0 { return min(max(transform(x), lo), hi) } else { return nil } }
        }
        let l = Parzen(points: numbers(good), lo: lo, hi: hi), g = Parzen(points: numbers(bad), lo: lo, hi: hi)
        var best = (lo + hi) / 2, bestRatio = -Double.infinity
        for _ in 0..<candidates {
            let x = l.sample(&rng)
            let ratio = l.logDensity(x) - g.logDensity(x)
            if ratio > bestRatio { bestRatio = ratio; best = x }
        }
        return inverse(best)
    }

    /// Category weights: counts plus a prior of 1 spread evenly, normalised.
    static func categorical(_ values: [JSONValue], _ seen: [JSONValue]) -> [Double] {
        var w = [Double](repeating: 1 / Double(values.count), count: values.count)
        for v in seen { if let i = values.firstIndex(of: v) { w[i] += 1 } }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    static func draw(_ weights: [Double], _ u: Double) -> Int {
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w
            if u < acc { return i }
        }
        return weights.count - 1
    }

    static func unit(_ rng: inout CounterRNG) -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
}

/// A mixture of Gaussians truncated to [lo, hi], one per point plus a prior centred on the
/// range with the range's width; each point's width is the larger gap to its sorted
/// neighbours, clipped to [(hi - lo) / min(100, n + 1), hi - lo] (Optuna's heuristic).
struct Parzen {
    let lo: Double, hi: Double
    var mus: [Double] = [], sigmas: [Double] = []

    init(points: [Double], lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
        let range = hi - lo
        let prior = (lo + hi) / 2
        let all = (points + [prior]).sorted()
        let minSigma = range / Double(min(100, points.count + 1))
        for (i, mu) in all.enumerated() {
            let left = i > 0 ? mu - all[i - 1] : mu - lo
            let right = i < all.count - 1 ? all[i + 1] - mu : hi - mu
            mus.append(mu)
            sigmas.append(min(max(max(left, right), minSigma), range))
        }
        // The prior component spans the whole range.
        if let p = mus.firstIndex(of: prior) { sigmas[p] = range }
    }

    func sample(_ rng: inout CounterRNG) -> Double {
        let component = min(Int(TPESampler.unit(&rng) * Double(mus.count)), mus.count - 1)
        let mu = mus[component], sigma = sigmas[component]
        for _ in 0..<100 {
            // Box-Muller.
            let u1 = max(TPESampler.unit(&rng), 1e-300), u2 = TPESampler.unit(&rng)
            let x = mu + sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            if x >= lo && x <= hi { return x }
        }
        return min(max(mu, lo), hi)
    }

    /// log of the mixture's density at x (equal component weights, each truncated to [lo, hi]).
    func logDensity(_ x: Double) -> Double {
        var total = 0.0
        for (mu, sigma) in zip(mus, sigmas) {
            let z = (x - mu) / sigma
            let mass = Self.phi((hi - mu) / sigma) - Self.phi((lo - mu) / sigma)
            total += exp(-0.5 * z * z) / (sigma * (2 * .pi).squareRoot()) / max(mass, 1e-12)
        }
        return log(max(total / Double(mus.count), 1e-300))
    }

    static func phi(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.0.squareRoot())) }
}
