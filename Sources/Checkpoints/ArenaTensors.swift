import Crypto
import Tensors

extension ParameterArena {
    /// Every slot as a tensor named `prefix + slot.name + suffix`, PyTorch shape, copied out.
    /// `roles` limits which slots (nil: all).
    public func safeTensors(prefix: String = "", suffix: String = "", roles: Set<TensorRole>? = nil) -> [SafeTensor] {
        layout.slots.filter { roles?.contains($0.role) ?? true }.map {
            SafeTensor(name: prefix + $0.name + suffix, shape: $0.shape, buffer: view($0))
        }
    }

    /// Fills every slot (of `roles`, nil: all) from `file`'s tensor `prefix + slot.name + suffix`.
    /// Each must be present with the slot's exact shape; otherwise throws a `.mismatch` error
    /// naming the file and the tensor, and the arena is left unchanged.
    public func load(from file: SafeTensorsFile, prefix: String = "", suffix: String = "",
                     roles: Set<TensorRole>? = nil) throws {
        var found: [(TensorSlot, SafeTensor)] = []
        for slot in layout.slots where roles?.contains(slot.role) ?? true {
            let name = prefix + slot.name + suffix
            guard let t = file.tensor(named: name) else {
                throw CheckpointError(.mismatch, file: file.path, field: "tensor \(name)", "missing (the model needs shape \(slot.shape))")
            }
            guard t.shape == slot.shape else {
                throw CheckpointError(.mismatch, file: file.path, field: "tensor \(name)",
                                      "has shape \(t.shape), the model needs \(slot.shape)")
            }
            found.append((slot, t))
        }
        for (slot, t) in found {
            let v = view(slot)
            t.values.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { v.baseAddress!.update(from: base, count: t.values.count) }
            }
        }
    }
}

extension ParameterArena {
    /// SHA-256 (lowercase hex) of every slot's bytes in layout order, padding left out: the
    /// weights hash ranks compare at a checkpoint (DESIGN.md §4). Equal iff bit-identical.
    public func contentSHA256() -> String {
        var hasher = SHA256()
        for slot in layout.slots {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(view(slot)))
        }
        return SafeTensor.hex(hasher.finalize())
    }
}

extension SafeTensor {
    /// SHA-256 (lowercase hex) of the tensors' values, in order: for the arena's tensors
    /// (`safeTensors()`), equal to its `contentSHA256()`. The coordinator checks what it
    /// writes against the weights hash the ranks agreed on with it.
    public static func contentSHA256<C: Collection>(_ tensors: C) -> String where C.Element == SafeTensor {
        var hasher = SHA256()
        for t in tensors { t.values.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined()
    }
}
