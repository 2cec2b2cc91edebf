import Checkpoints
import Foundation
import Layers
import Optim
import Tensors

extension Trainer {
    /// Transfer learning: copies every tensor of `path` whose name and shape match this model.
    /// The file may be a RingTrain checkpoint or any safetensors file with torchvision/timm
    /// names (`safetensors.torch.save_file(model.state_dict(), ...)`, timm's
    /// `model.safetensors`): its checksums are checked when it has them, F16/BF16/F64 tensors
    /// are converted, DDP's `module.` prefix is stripped. Tensors whose shape differs (a new
    /// head for another class count) keep their fresh initialisation; the log lists what was
    /// copied, what kept its initialisation, and what in the file matched nothing.
    func initialise(from argument: String) throws {
        // A run directory or a `latest` pointer means its newest valid checkpoint.
        let progress = options.progress
        let path = try resolveCheckpointPath(argument, onWarning: { progress?.message("warning: init-from: \($0)") })
        let file = try SafeTensorsFile.read(path: path, integrity: .ifPresent, dtypes: .convertToFloat32)
        let outcome = InitFromMatch(file: file, arenas: [network.parameters, network.buffers], exclude: config.initExclude)
        guard !outcome.copied.isEmpty else {
            throw CheckpointError(.mismatch, file: path, field: "tensors", outcome.noMatchMessage(model: "\(state.model)"))
        }
        outcome.apply(arenas: [network.parameters, network.buffers])
        options.progress?.message("init-from \(path): " + outcome.summary)
    }

    /// Every `freeze` prefix must name some parameter: a typo would otherwise train the whole
    /// model while the user believes its backbone fixed.
    static func checkFreeze(_ prefixes: [String], network: Network, key: String = "freeze") throws {
        let names = network.parameters.layout.slots.map(\.name)
        for prefix in prefixes where !names.contains(where: { ParameterGroups.prefix(prefix, matches: $0) }) {
            let modules = Array(Set(names.map { n in n.split(separator: ".").dropLast().joined(separator: ".") })).sorted()
            throw ConfigurationError(key: key, "'\(prefix)' matches no parameter of the model; its parameters are under \(modules.prefix(40).joined(separator: ", "))\(modules.count > 40 ? ", ..." : "")")
        }
    }
}

/// How the tensors of a weights file meet a model's arenas, by name and shape.
struct InitFromMatch {
    /// (arena index, slot name, file tensor) for every tensor to copy.
    var copied: [(Int, String, SafeTensor)] = []
    /// Model tensors the file has with another shape: "fc.weight [10, 512] (file [1000, 512])".
    var shapeMismatches: [String] = []
    /// Model tensors the file does not have.
    var missing: [String] = []
    /// File tensors no model tensor took (num_batches_tracked counters left out: we keep our own).
    var unused: [String] = []
    /// Model tensors the file has but `init_exclude` keeps fresh.
    var excluded: [String] = []
    /// Optimizer and error-feedback state of a RingTrain checkpoint: not weights, not copied.
    var trainingState = 0

    init(file: SafeTensorsFile, arenas: [ParameterArena], exclude: [String] = []) {
        var byName: [String: SafeTensor] = [:]
        for t in file.tensors {
            let name = t.name.hasPrefix("module.") ? String(t.name.dropFirst(7)) : t.name
            byName[name] = t
        }
        var taken = Set<String>()
        for (a, arena) in arenas.enumerated() {
            for slot in arena.layout.slots {
                guard let t = byName[slot.name] else { missing.append(slot.name); continue }
                if exclude.contains(where: { ParameterGroups.prefix($0, matches: slot.name) }) {
                    excluded.append(slot.name)
                    taken.insert(slot.name)
                    continue
                }
                // A scalar in PyTorch ([]) and our one-element counters agree in count.
                if t.shape == slot.shape || (t.values.count == slot.count && slot.shape.isEmpty) {
                    copied.append((a, slot.name, t))
                    taken.insert(slot.name)
                } else {
                    shapeMismatches.append("\(slot.name) \(slot.shape) (file \(t.shape))")
                    taken.insert(slot.name)
                }
            }
        }
        let left = byName.keys.filter { !taken.contains($0) && !$0.hasSuffix("num_batches_tracked") }
        trainingState = left.filter { $0.hasPrefix("optimizer.") || $0.hasPrefix("residual.") }.count
        unused = left.filter { !$0.hasPrefix("optimizer.") && !$0.hasPrefix("residual.") }.sorted()
        // A model counter the file lacks is not worth a line either.
        missing = missing.filter { !$0.hasSuffix("num_batches_tracked") }
    }

    func apply(arenas: [ParameterArena]) {
        for (a, name, t) in copied {
            let v = arenas[a].view(named: name)!
            for i in 0..<v.count { v[i] = t.values[i] }
        }
    }

    var summary: String {
        var parts = ["copied \(copied.count) tensors"]
        if !shapeMismatches.isEmpty { parts.append("kept fresh initialisation (other shape) for \(shapeMismatches.joined(separator: ", "))") }
        if !missing.isEmpty { parts.append("kept fresh initialisation (not in the file) for \(Self.list(missing))") }
        if !excluded.isEmpty { parts.append("kept fresh initialisation (init_exclude) for \(Self.list(excluded))") }
        if !unused.isEmpty { parts.append("file tensors this model has no place for: \(Self.list(unused))") }
        if trainingState > 0 { parts.append("left out the file's \(trainingState) optimizer and error-feedback tensors (training state, not weights)") }
        return parts.joined(separator: "; ")
    }

    func noMatchMessage(model: String) -> String {
        var text = "no tensor matches this model (\(model)) by name and shape"
        if !shapeMismatches.isEmpty { text += "; same name, other shape: \(Self.list(shapeMismatches))" }
        text += "; the model's tensors: \(Self.list(missing))"
        if !unused.isEmpty { text += "; the file's tensors: \(Self.list(unused))" }
        return text
    }

    static func list(_ names: [String]) -> String {
        names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", ... (\(names.count) in all)"
    }
}
