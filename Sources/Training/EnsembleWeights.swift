import Foundation

/// `--weights` of evaluate and predict: which tensors of each checkpoint, and how much each
/// member of an ensemble counts.
public enum EnsembleWeights: Equatable, Sendable {
    /// The trained weights, members counted equally (the default).
    case raw
    /// The weight average (`ema_decay`) of each checkpoint, members counted equally.
    case ema
    /// Members weighted by the validation top-1 each checkpoint recorded last.
    case validation
    /// One weight per member, in the order the checkpoints are given.
    case list([Double])

    /// Parses `raw`, `ema`, `validation` or a comma-separated list of non-negative numbers.
    public static func parse(_ text: String) throws -> EnsembleWeights {
        switch text {
        case "raw": return .raw
        case "ema": return .ema
        case "validation": return .validation
        default:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, values.allSatisfy({ $0 != nil }) else {
                throw ConfigurationError(key: "--weights", "'\(text)' is not raw, ema, validation or a list of numbers such as 0.5,0.3,0.2")
            }
            let list = values.map { $0! }
            guard list.allSatisfy({ $0 >= 0 && $0.isFinite }), list.contains(where: { $0 > 0 }) else {
                throw ConfigurationError(key: "--weights", "weights must be finite, non-negative and not all 0, got \(text)")
            }
            return .list(list)
        }
    }

    /// Which tensors to load from each checkpoint.
    public var tensors: CheckpointWeights { self == .ema ? .ema : .raw }

    /// The members' weights (nil: equal), checked against the models.
    public func memberWeights(_ models: [CheckpointModel]) throws -> [Double]? {
        switch self {
        case .raw, .ema: return nil
        case .list(let w):
            guard w.count == models.count else {
                throw ConfigurationError(key: "--weights", "has \(w.count) weights for \(models.count) checkpoints: give one per --checkpoint")
            }
            return w
        case .validation:
            return try models.map { m in
                guard let top1 = m.state.history.last?.top1 else {
                    throw ConfigurationError(key: "--weights", "validation: \(m.path) records no validation (it was trained without a validation split)")
                }
                return top1
            }
        }
    }
}
