import Foundation

/// Any JSON value, for hyperparameters that may be numbers, strings, booleans or objects
/// (a whole schedule), kept exactly as written in the space file and in tune.json.
public enum JSONValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d):
            // Integers stay integers ("batch_size": 64, not 64.0): config keys are typed.
            if d == d.rounded(), abs(d) < 1e15 { try c.encode(Int(d)) } else { try c.encode(d) }
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    /// Compact JSON text (sorted keys), as shown in the trials table.
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    /// From a JSONSerialization object.
    init(any: Any) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONSerialization.data(withJSONObject: any, options: [.fragmentsAllowed]))
    }

    var asAny: Any {
        switch self {
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d
        case .string(let s): return s
        case .bool(let b): return b
        case .array(let a): return a.map(\.asAny)
        case .object(let o): return o.mapValues(\.asAny)
        case .null: return NSNull()
        }
    }
}
