import Foundation

/// What `tune` ranks trials by: a validation metric of every trial's metrics.jsonl. The loss
/// ranks lowest first, the others highest first. Balanced accuracy and macro-F1 are for
/// imbalanced data, where top-1 rewards a model that ignores a small class.
public enum TuneMetric: String, CaseIterable, Codable, Sendable {
    case valTop1 = "val_top1", valTop5 = "val_top5", valBalancedAccuracy = "val_balanced_accuracy"
    case valMacroF1 = "val_macro_f1", valLoss = "val_loss"

    public var higherIsBetter: Bool { self != .valLoss }

    /// The column heading and log wording: "val top-1".
    public var label: String {
        switch self {
        case .valTop1: return "val top-1"
        case .valTop5: return "val top-5"
        case .valBalancedAccuracy: return "val balanced accuracy"
        case .valMacroF1: return "val macro-F1"
        case .valLoss: return "val loss"
        }
    }

    /// "91.20%" for the accuracies and F1, "0.2734" for the loss.
    public func format(_ value: Double) -> String {
        self == .valLoss ? String(format: "%.4f", value) : String(format: "%.2f%%", value * 100)
    }

    /// Larger is better; a failed trial's result (negative: every metric is >= 0) is worst.
    public func score(_ value: Double) -> Double {
        if value < 0 || value.isNaN { return -.infinity }
        return higherIsBetter ? value : -value
    }
}
