import Tensors

/// Held-out splits drawn from a seed, stratified so every class keeps its proportion.
public enum Splits {
    /// Indices of a train part and a validation part: in each class, `round(fraction * count)`
    /// randomly chosen samples go to validation. Both lists are sorted.
    public static func stratified(labels: [Int32], classCount: Int, validationFraction: Double,
                                  seed: UInt64) -> (train: [Int], validation: [Int]) {
        precondition((0...1).contains(validationFraction), "validation fraction must be in [0, 1]")
        var train: [Int] = [], validation: [Int] = []
        for (c, var members) in membersByClass(labels, classCount).enumerated() {
            var rng = CounterRNG(seed: seed, purpose: .split, a: 0, b: UInt64(c))
            fisherYates(&members, &rng)
            let k = Int((validationFraction * Double(members.count)).rounded())
            validation.append(contentsOf: members[0..<k])
            train.append(contentsOf: members[k...])
        }
        return (train.sorted(), validation.sorted())
    }

    /// k stratified folds: fold i is the validation part of the i-th split. Every sample is in
    /// exactly one fold, and each class is spread over the folds as evenly as possible.
    public static func kFold(labels: [Int32], classCount: Int, folds k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "k-fold needs at least 2 folds")
        var folds = [[Int]](repeating: [], count: k)
        var offset = 0
        for (c, var members) in membersByClass(labels, classCount).enumerated() {
            var rng = CounterRNG(seed: seed, purpose: .split, a: 1, b: UInt64(c))
            fisherYates(&members, &rng)
            // Rotate the starting fold per class so small classes do not all land in fold 0.
            for (j, i) in members.enumerated() { folds[(j + offset) % k].append(i) }
            offset += members.count
        }
        return folds.map { $0.sorted() }
    }

    /// k folds ignoring the classes: one shuffled order of the samples dealt round-robin.
    public static func kFoldShuffled(count: Int, folds k: Int, seed: UInt64) -> [[Int]] {
        precondition(k >= 2, "k-fold needs at least 2 folds")
        var order = Array(0..<count)
        var rng = CounterRNG(seed: seed, purpose: .split, a: 2)
        fisherYates(&order, &rng)
        var folds = [[Int]](repeating: [], count: k)
        for (j, i) in order.enumerated() { folds[j % k].append(i) }
        return folds.map { $0.sorted() }
    }

    static func membersByClass(_ labels: [Int32], _ classCount: Int) -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
        return byClass
    }
}

/// Class weights for an imbalanced training set.
public enum ClassWeights {
    /// scikit-learn's and Keras' `balanced`: n_samples / (n_classes * count_c). An empty class
    /// gets weight 0 (it never appears in a batch, so its weight never matters).
    public static func balanced(classCounts: [Int]) -> [Float] {
        let n = classCounts.reduce(0, +)
        let k = classCounts.count
        return classCounts.map { $0 == 0 ? 0 : Float(Double(n) / (Double(k) * Double($0))) }
    }
}
