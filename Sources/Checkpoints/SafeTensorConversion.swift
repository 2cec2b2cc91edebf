/// Little-endian safetensors elements of other types, as Float.
enum SafeTensorConversion {
    static func toFloat(_ bytes: UnsafeRawBufferPointer, dtype: String) -> [Float] {
        let width = SafeTensorsFile.elementBytes(dtype) ?? 4
        let count = bytes.count / width
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 * i + $1]) << (8 * UInt32($1)) } }
        func u64(_ i: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[8 * i + $1]) << (8 * UInt64($1)) } }
        return (0..<count).map { i -> Float in
            switch dtype {
            case "F64": return Float(Double(bitPattern: u64(i)))
            case "F16": return Float(Float16(bitPattern: u16(i)))
            // bfloat16 is the top half of a float32.
            case "BF16": return Float(bitPattern: UInt32(u16(i)) << 16)
            case "I64": return Float(Int64(bitPattern: u64(i)))
            case "U64": return Float(u64(i))
            case "I32": return Float(Int32(bitPattern: u32(i)))
            case "U32": return Float(u32(i))
            case "I16": return Float(Int16(bitPattern: u16(i)))
            case "U16": return Float(u16(i))
            case "I8": return Float(Int8(bitPattern: bytes[i]))
            default: return Float(bytes[i])   // U8, BOOL
            }
        }
    }
}
