/// Why a network could not be exported; every case names the layer, tensor or field.
public enum ExportError: Error, Equatable, CustomStringConvertible {
    /// A layer the format cannot express (or this exporter does not know): its index in the
    /// network's layer list, its Swift type and its name ("-" when it has none). `within`
    /// names the enclosing block for a layer inside one.
    case unsupportedLayer(index: Int, type: String, name: String, within: String?, reason: String)
    /// A tensor a layer names is not in the arenas, or has another size.
    case badTensor(name: String, reason: String)
    /// The metadata does not fit the network.
    case badMetadata(field: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedLayer(let index, let type, let name, let within, let reason):
            let place = within.map { " inside \($0)" } ?? ""
            return "cannot export layer \(index) (\(type) \"\(name)\"\(place)) to ONNX: \(reason)"
        case .badTensor(let name, let reason): return "cannot export tensor \(name): \(reason)"
        case .badMetadata(let field, let reason): return "cannot export: metadata \(field): \(reason)"
        }
    }
}
