import Foundation

/// Reading loosely typed values out of `JSONSerialization` objects: numbers arrive as
/// NSNumber (an integer may be written as `1` or `1.0`), and a key may be missing.
enum JSONValues {
    /// A finite number, or nil (missing, not a number, a Bool, NaN).
    static func double(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, !isBool(number) else { return nil }
        let d = number.doubleValue
        return d.isFinite ? d : nil
    }

    /// An integer, or nil; a float that is a whole number counts.
    static func int(_ value: Any?) -> Int? {
        guard let d = double(value), d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    static func bool(_ value: Any?) -> Bool? {
        guard let number = value as? NSNumber, isBool(number) else { return nil }
        return number.boolValue
    }

    static func string(_ value: Any?) -> String? { value as? String }

    static func strings(_ value: Any?) -> [String]? {
        guard let array = value as? [Any] else { return nil }
        let strings = array.compactMap { $0 as? String }
        return strings.count == array.count ? strings : nil
    }

    /// An array of integers (confusion counts); nil if any element is not one.
    static func ints(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        let ints = array.compactMap { int($0) }
        return ints.count == array.count ? ints : nil
    }

    /// `JSONSerialization` decodes `true`/`false` as NSNumber too; tell them apart by type.
    static func isBool(_ number: NSNumber) -> Bool {
        #if canImport(Darwin)
        return CFGetTypeID(number) == CFBooleanGetTypeID()
        #else
        return number === (true as NSNumber) || number === (false as NSNumber)
        #endif
    }

    /// Compact JSON text of any JSON value, keys sorted (config values in a table cell).
    static func compactText(_ value: Any) -> String {
        if let s = value as? String { return s }
        if value is NSNull { return "null" }
        if let n = value as? NSNumber {
            if isBool(n) { return n.boolValue ? "true" : "false" }
            return numberText(n.doubleValue)
        }
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return String(describing: value) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Pretty JSON text with sorted keys (the config shown whole).
    static func prettyText(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value,
                                                     options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return compactText(value) }
        return String(decoding: data, as: UTF8.self)
    }

    /// A number as a person would write it: integers without a fraction, others with up to 6
    /// significant digits.
    static func numberText(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(format: "%.6g", d)
    }
}
