import Foundation
import Tensors
import Training

/// The space file of `ringtrain tune --space`: a JSON object from config key (a dot path
/// for nested keys: `augmentation.shift`, `schedule.warmup_steps`) to a distribution:
///
///     {"lr":            {"log_uniform": [0.01, 0.2]},
///      "weight_decay":  {"log_uniform": [1e-5, 1e-3]},
///      "batch_size":    {"choice": [64, 128, 256]},
///      "momentum":      {"uniform": [0.8, 0.95]},
///      "dropout":       {"uniform": [0.0, 0.5]},
///      "augmentation.shift": {"int_uniform": [0, 3]},
///      "schedule":      {"choice": [{"type": "cosine", "warmup_steps": 200}, {"type": "onecycle"}]}}
///
/// Every sampled config is validated like a config file, so a space that can produce an
/// invalid config fails on its first such trial with the key named.
public struct SearchSpace: Sendable, Equatable {
    public enum Distribution: Sendable, Equatable {
        case choice([JSONValue])
        case uniform(Double, Double)
        case logUniform(Double, Double)
        case intUniform(Int, Int)
    }

    public struct Dimension: Sendable, Equatable {
        public var key: String
        public var distribution: Distribution
    }

    /// In key order, so sampling does not depend on the file's key order.
    public let dimensions: [Dimension]

    public static func parse(_ data: Data, source: String) throws -> SearchSpace {
        func fail(_ key: String, _ message: String) -> TuneError { TuneError("\(source): \(key): \(message)") }
        guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TuneError("\(source): not a JSON object of config key -> distribution")
        }
        guard !top.isEmpty else { throw TuneError("\(source): the space is empty") }
        var dims: [Dimension] = []
        for key in top.keys.sorted() {
            let root = String(key.split(separator: ".").first ?? "")
            guard TrainingConfig.allKeys.contains(root) else {
                throw fail(key, "not a config key (known: \(TrainingConfig.allKeys.joined(separator: ", ")))")
            }
            guard let spec = top[key] as? [String: Any], spec.count == 1, let (kind, value) = spec.first else {
                throw fail(key, "give exactly one of choice, uniform, log_uniform, int_uniform")
            }
            func pair() throws -> (Double, Double) {
                guard let a = value as? [Any], a.count == 2, let lo = (a[0] as? NSNumber)?.doubleValue,
                      let hi = (a[1] as? NSNumber)?.doubleValue, lo <= hi else {
                    throw fail(key, "\(kind) needs [low, high] with low <= high")
                }
                return (lo, hi)
            }
            switch kind {
            case "choice":
                guard let a = value as? [Any], !a.isEmpty else { throw fail(key, "choice needs a non-empty list") }
                dims.append(Dimension(key: key, distribution: .choice(try a.map { try JSONValue(any: $0) })))
            case "uniform":
                let (lo, hi) = try pair()
                dims.append(Dimension(key: key, distribution: .uniform(lo, hi)))
            case "log_uniform":
                let (lo, hi) = try pair()
                guard lo > 0 else { throw fail(key, "log_uniform needs a positive low bound") }
                dims.append(Dimension(key: key, distribution: .logUniform(lo, hi)))
            case "int_uniform":
                let (lo, hi) = try pair()
                guard lo == lo.rounded(), hi == hi.rounded() else { throw fail(key, "int_uniform needs integer bounds") }
                dims.append(Dimension(key: key, distribution: .intUniform(Int(lo), Int(hi))))
            default:
                throw fail(key, "unknown distribution '\(kind)' (choice, uniform, log_uniform, int_uniform)")
            }
        }
        return SearchSpace(dimensions: dims)
    }

    /// Trial `index`'s values: a pure function of (seed, index), so a resumed search draws
    /// the same trials.
    public func sample(seed: UInt64, index: Int) -> [String: JSONValue] {
        var rng = CounterRNG(seed: seed, purpose: .hyperparameterSearch, a: UInt64(index))
        var out: [String: JSONValue] = [:]
        for d in dimensions {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            switch d.distribution {
            case .choice(let values): out[d.key] = values[min(Int(u * Double(values.count)), values.count - 1)]
            case .uniform(let lo, let hi): out[d.key] = .number(lo + u * (hi - lo))
            case .logUniform(let lo, let hi): out[d.key] = .number(exp(log(lo) + u * (log(hi) - log(lo))))
            case .intUniform(let lo, let hi): out[d.key] = .number(Double(lo + min(Int(u * Double(hi - lo + 1)), hi - lo)))
            }
        }
        return out
    }

    /// The grid: every combination of the choices (continuous ranges contribute `points`
    /// evenly spaced values, geometric for log_uniform), in a fixed order.
    public func grid(points: Int = 3) -> [[String: JSONValue]] {
        var combos: [[String: JSONValue]] = [[:]]
        for d in dimensions {
            let values: [JSONValue]
            switch d.distribution {
            case .choice(let v): values = v
            case .uniform(let lo, let hi):
                values = (0..<points).map { .number(points == 1 ? lo : lo + Double($0) * (hi - lo) / Double(points - 1)) }
            case .logUniform(let lo, let hi):
                values = (0..<points).map { .number(points == 1 ? lo : exp(log(lo) + Double($0) * (log(hi) - log(lo)) / Double(points - 1))) }
            case .intUniform(let lo, let hi): values = (lo...hi).map { .number(Double($0)) }
            }
            combos = combos.flatMap { c in values.map { v in c.merging([d.key: v]) { $1 } } }
        }
        return combos
    }

    /// `base` with `values` set (dot paths reach into objects), validated as a config file.
    public static func apply(_ values: [String: JSONValue], to base: TrainingConfig, source: String) throws -> TrainingConfig {
        guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] else {
            throw TuneError("internal: the base config is not a JSON object")
        }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            set(&object, path: key.split(separator: ".").map(String.init), value.asAny)
        }
        // The base config is written out whole, so an explicit null (no init_from) is dropped.
        object = object.filter { !($0.value is NSNull) }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return try TrainingConfig.parse(json: data, source: source)
    }

    private static func set(_ object: inout [String: Any], path: [String], _ value: Any) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var inner = object[first] as? [String: Any] ?? [:]
        set(&inner, path: Array(path.dropFirst()), value)
        object[first] = inner
    }
}

/// A trial that failed on its own account (its training exited with an error): it ranks
/// last and the search goes on.
public struct TrialFailed: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A tuning problem: a bad space file, a tune directory started with other settings, a
/// trial that failed. Names the file or trial.
public struct TuneError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
