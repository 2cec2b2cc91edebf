import Foundation

/// One layer of a user-given model (the Keras `Sequential` idea). JSON, one object per layer,
/// discriminated by "type"; see docs/models.md for every field and its default.
public struct LayerSpec: Codable, Sendable, Equatable {
    public var type: String
    public var out: Int?
    public var kernel: Int?
    public var stride: Int?
    public var pad: Int?
    public var bias: Bool?
    public var size: Int?
    public var p: Float?
    public var slope: Float?
    public var alpha: Float?
    /// State_dict prefix; defaults to the layer's index in the list (as in `nn.Sequential`).
    public var name: String?
    /// Residual blocks: the state_dict name of the projection shortcut (default `shortcut`;
    /// torchvision's ResNets use `downsample`).
    public var shortcut: String?

    public init(type: String, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil, pad: Int? = nil,
                bias: Bool? = nil, size: Int? = nil, p: Float? = nil, slope: Float? = nil, alpha: Float? = nil,
                name: String? = nil, shortcut: String? = nil) {
        self.type = type; self.out = out; self.kernel = kernel; self.stride = stride; self.pad = pad
        self.bias = bias; self.size = size; self.p = p; self.slope = slope; self.alpha = alpha; self.name = name
        self.shortcut = shortcut
    }

    public static let types = ["conv", "batchnorm", "relu", "leakyrelu", "elu", "maxpool", "avgpool",
                               "globalavgpool", "flatten", "linear", "dropout", "residual"]
}

public enum ModelSpecError: Error, CustomStringConvertible {
    case unknownModel(String)
    case badLayer(index: Int, message: String)

    public var description: String {
        switch self {
        case .unknownModel(let name):
            return "unknown model \"\(name)\"; built-in models: \(ModelSpec.builtinNames.joined(separator: ", "))"
        case .badLayer(let index, let message): return "model layer \(index): \(message)"
        }
    }
}

/// The first layers of a torchvision ResNet.
public enum ResNetStem: String, Codable, Sendable, CaseIterable {
    /// 7x7 stride-2 convolution and a 3x3 stride-2 max-pool (torchvision's, for 224x224 input).
    case imagenet
    /// A 3x3 stride-1 convolution and no pool: the usual variant for 32x32 images.
    case cifar
}

/// A model: a built-in name, or a layer list.
/// JSON: `"fashion-cnn"`, or `{"builtin": "resnet8"}`, `{"builtin": "resnet18", "stem": "cifar"}`,
/// or `{"layers": [...]}`, or `[...]`.
public enum ModelSpec: Codable, Sendable, Equatable {
    case builtin(String)
    /// torchvision's resnet18 / resnet34 (depth 18 or 34).
    case resnet(depth: Int, stem: ResNetStem)
    case layers([LayerSpec])

    public static let builtinNames = ["fashion-cnn", "fashion-cnn-bn", "resnet8", "resnet18", "resnet34"]
    static let resnetBlocks = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3]]

    /// A built-in model by name; throws for an unknown name. `stem` is for resnet18/34 only.
    public static func named(_ name: String, stem: ResNetStem? = nil) throws -> ModelSpec {
        guard builtinNames.contains(name) else { throw ModelSpecError.unknownModel(name) }
        if name.hasPrefix("resnet"), let depth = Int(name.dropFirst(6)), resnetBlocks[depth] != nil {
            return .resnet(depth: depth, stem: stem ?? .imagenet)
        }
        guard stem == nil else {
            throw ModelSpecError.badLayer(index: 0, message: "\"stem\" is an option of resnet18 and resnet34, not of \(name)")
        }
        return .builtin(name)
    }

    enum Keys: String, CodingKey { case builtin, stem, layers }

    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if let name = try? single.decode(String.self) { self = try ModelSpec.named(name); return }
            if let list = try? single.decode([LayerSpec].self) { self = .layers(list); return }
        }
        let c = try decoder.container(keyedBy: Keys.self)
        if let name = try c.decodeIfPresent(String.self, forKey: .builtin) {
            self = try ModelSpec.named(name, stem: try c.decodeIfPresent(ResNetStem.self, forKey: .stem))
            return
        }
        self = .layers(try c.decode([LayerSpec].self, forKey: .layers))
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .builtin(let name):
            var c = encoder.singleValueContainer(); try c.encode(name)
        case .resnet(let depth, .imagenet):
            var c = encoder.singleValueContainer(); try c.encode("resnet\(depth)")
        case .resnet(let depth, let stem):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode("resnet\(depth)", forKey: .builtin)
            try c.encode(stem, forKey: .stem)
        case .layers(let list):
            var c = encoder.container(keyedBy: Keys.self); try c.encode(list, forKey: .layers)
        }
    }

    /// The layer list with state_dict prefixes; `out == nil` on the last linear means `classes`.
    public func resolvedLayers() throws -> [LayerSpec] {
        switch self {
        case .layers(let list): return list
        case .resnet(let depth, let stem): return Self.resnetLayers(depth: depth, stem: stem)
        case .builtin(let name):
            func conv(_ n: String, _ out: Int, bias: Bool = true) -> LayerSpec {
                LayerSpec(type: "conv", out: out, kernel: 3, stride: 1, pad: 1, bias: bias, name: n)
            }
            let relu = LayerSpec(type: "relu"), pool = LayerSpec(type: "maxpool", size: 2)
            switch name {
            case "fashion-cnn":
                return [conv("conv1", 32), relu, pool, conv("conv2", 64), relu, pool, LayerSpec(type: "flatten"),
                        LayerSpec(type: "linear", out: 128, name: "fc1"), relu, LayerSpec(type: "dropout", p: 0.25),
                        LayerSpec(type: "linear", name: "fc2")]
            case "fashion-cnn-bn":
                return [conv("conv1", 32), LayerSpec(type: "batchnorm", name: "bn1"), relu, pool,
                        conv("conv2", 64), LayerSpec(type: "batchnorm", name: "bn2"), relu, pool,
                        LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 128, name: "fc1"), relu,
                        LayerSpec(type: "dropout", p: 0.25), LayerSpec(type: "linear", name: "fc2")]
            case "resnet8":
                return [conv("conv1", 16, bias: false), LayerSpec(type: "batchnorm", name: "bn1"), relu,
                        LayerSpec(type: "residual", out: 16, stride: 1, name: "layer1"),
                        LayerSpec(type: "residual", out: 32, stride: 2, name: "layer2"),
                        LayerSpec(type: "residual", out: 64, stride: 2, name: "layer3"),
                        LayerSpec(type: "globalavgpool"), LayerSpec(type: "linear", name: "fc")]
            default: throw ModelSpecError.unknownModel(name)
            }
        }
    }
}

extension ModelSpec {
    /// torchvision's ResNet with BasicBlocks, names and all: conv1, bn1, (maxpool),
    /// layerS.B.{conv1, bn1, conv2, bn2, downsample.0, downsample.1}, avgpool, fc.
    static func resnetLayers(depth: Int, stem: ResNetStem) -> [LayerSpec] {
        var layers: [LayerSpec]
        switch stem {
        case .imagenet:
            layers = [LayerSpec(type: "conv", out: 64, kernel: 7, stride: 2, pad: 3, bias: false, name: "conv1"),
                      LayerSpec(type: "batchnorm", name: "bn1"), LayerSpec(type: "relu"),
                      LayerSpec(type: "maxpool", stride: 2, pad: 1, size: 3, name: "maxpool")]
        case .cifar:
            layers = [LayerSpec(type: "conv", out: 64, kernel: 3, stride: 1, pad: 1, bias: false, name: "conv1"),
                      LayerSpec(type: "batchnorm", name: "bn1"), LayerSpec(type: "relu")]
        }
        for (stage, blocks) in (resnetBlocks[depth] ?? []).enumerated() {
            let channels = 64 << stage
            for b in 0..<blocks {
                layers.append(LayerSpec(type: "residual", out: channels, stride: stage > 0 && b == 0 ? 2 : 1,
                                        name: "layer\(stage + 1).\(b)", shortcut: "downsample"))
            }
        }
        return layers + [LayerSpec(type: "globalavgpool", name: "avgpool"), LayerSpec(type: "linear", name: "fc")]
    }
}

extension ModelSpec: CustomStringConvertible {
    /// For logs and errors: the built-in name, or the layer types of a layer list.
    public var description: String {
        switch self {
        case .builtin(let name): return name
        case .resnet(let depth, .imagenet): return "resnet\(depth)"
        case .resnet(let depth, let stem): return "resnet\(depth) (\(stem.rawValue) stem)"
        case .layers(let list):
            return "layers [" + list.map { l in l.out.map { "\(l.type) \($0)" } ?? l.type }.joined(separator: ", ") + "]"
        }
    }
}
