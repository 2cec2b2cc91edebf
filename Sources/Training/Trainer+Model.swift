import Checkpoints
import Foundation
import Layers

extension Trainer {
    /// The model of `config`: a built-in or a layer list, with `dropout` applied to every
    /// dropout layer (an error when the model has none: the setting would silently do nothing).
    public static func modelSpec(_ config: TrainingConfig) throws -> ModelSpec {
        let spec: ModelSpec = try config.layers.map { .layers($0) } ?? ModelSpec.named(config.model, stem: config.stem)
        guard let p = config.dropout else { return spec }
        let layers = try spec.resolvedLayers()
        guard layers.contains(where: { $0.type == "dropout" }) else {
            throw ConfigurationError(key: "dropout", "the model has no dropout layer to set the rate of")
        }
        return .layers(layers.map { layer in
            var l = layer
            if l.type == "dropout" { l.p = Float(p) }
            return l
        })
    }
}

extension Trainer {
    /// Why a sound checkpoint file cannot resume a run of `model` (nil: it can): not a
    /// RingTrain checkpoint, or a checkpoint of another model (a file copied in by mistake).
    /// Resuming skips such a file, with this reason, in favour of the previous good one.
    public static func rejection(of file: SafeTensorsFile, model: ModelSpec) -> String? {
        guard let text = file.metadata[SafeTensorsFile.stateKey] else { return "no training state: not a RingTrain checkpoint" }
        guard let saved = try? TrainingState.parse(text, file: file.path) else { return "its training state does not parse" }
        guard saved.model == model else { return "it is a checkpoint of another model (\(saved.model)), this run trains \(model)" }
        return nil
    }
}
