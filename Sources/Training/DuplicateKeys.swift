import Foundation

/// JSON allows an object to repeat a key and JSONSerialization silently keeps one of them; in
/// a config file a repeated key is a mistake (two values for `lr`, one of them ignored), so
/// the parser refuses it. This scanner walks the text once (strings and escapes respected)
/// and returns the dotted path of the first repeated key.
enum DuplicateKeys {
    static func first(in data: Data) -> String? {
        let bytes = [UInt8](data)
        var i = 0
        // One frame per open container: its keys so far (objects only) and the key that led to it.
        var stack: [(isObject: Bool, keys: Set<String>, path: String)] = []
        var pendingKey: String?
        var expectingKey = false
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let parent = stack.last?.path ?? ""
                let name = pendingKey.map { parent.isEmpty ? $0 : parent + "." + $0 } ?? parent
                stack.append((c == UInt8(ascii: "{"), [], name))
                pendingKey = nil
                expectingKey = c == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                pendingKey = nil
                expectingKey = false
            case UInt8(ascii: ","):
                pendingKey = nil
                expectingKey = stack.last?.isObject ?? false
            case UInt8(ascii: "\""):
                var j = i + 1
                var text: [UInt8] = []
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\") { text.append(bytes[j]); j += 1 }
                    if j < bytes.count { text.append(bytes[j]) }
                    j += 1
                }
                if expectingKey, var frame = stack.popLast() {
                    let key = String(decoding: text, as: UTF8.self)
                    if frame.keys.contains(key) { return frame.path.isEmpty ? key : frame.path + "." + key }
                    frame.keys.insert(key)
                    stack.append(frame)
                    pendingKey = key
                    expectingKey = false
                }
                i = j
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
