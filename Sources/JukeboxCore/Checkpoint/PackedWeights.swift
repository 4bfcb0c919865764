import Foundation

/// Where a model file keeps a Conv1D weight `K` ([nIn, nOut]) in a sampling format: its packed values
/// under `K.<format>` (output-major, [nOut, nIn], or for q8 [nOut, P] and q4 [nOut, P/2], P being nIn rounded
/// up to whole groups of 32 with zero weights) and, for q8 and q4, one binary16 scale per 32 values under
/// `K.scales` ([nOut, P/32]). A float32 weight keeps its key `K`.
public enum PackedWeightKeys {
    public static func values(_ key: String, _ format: WeightFormat) -> String { key + "." + format.rawValue }
    public static func scales(_ key: String) -> String { key + ".scales" }
}

extension WeightStore {
    /// The Conv1D weight `key` as a packed matrix when the file keeps it packed, or keeps it as 16-bit
    /// floats (then it stays 16-bit, turned output-major); nil when the file holds it as float32.
    /// Shapes are checked against the model's nIn × nOut and the error names the key. Matrices come back
    /// tiled for the sampling kernels where the CPU computes tiles (`PackedMatrix.tiledForSampling`).
    func takePacked(_ key: String, nIn: Int, nOut: Int) throws -> PackedMatrix? {
        if let e = file.entries[key] {
            guard e.dtype == .f16 || e.dtype == .bf16 else { return nil }
            guard e.shape == [nIn, nOut] else {
                throw JukeboxError(file.path, "tensor \(key) has shape \(e.shape) but the model expects \([nIn, nOut])")
            }
            markTaken(key)
            return PackedMatrix.transposingHalf(file.bytes(e).pointer, format: e.dtype == .f16 ? .f16 : .bf16,
                                                nIn: nIn, nOut: nOut)
        }
        for format in WeightFormat.allCases where format != .f32 {
            let valuesKey = PackedWeightKeys.values(key, format)
            guard let e = file.entries[valuesKey] else { continue }
            let shape = format.storageShape(nOut: nOut, nIn: nIn)
            guard e.dtype == format.storageDType, e.shape == shape else {
                throw JukeboxError(file.path, "tensor \(valuesKey) is \(e.dtype.rawValue) \(e.shape), expected \(format.storageDType.rawValue) \(shape)")
            }
            var scales: UnsafePointer<UInt16>? = nil
            if format.isQuantized {
                let scalesKey = PackedWeightKeys.scales(key)
                guard let s = file.entries[scalesKey] else { throw JukeboxError(file.path, "missing tensor \(scalesKey) (the scales of \(valuesKey))") }
                let scaleShape = format.scaleShape(nOut: nOut, nIn: nIn)
                guard s.dtype == .f16, s.shape == scaleShape else {
                    throw JukeboxError(file.path, "tensor \(scalesKey) is \(s.dtype.rawValue) \(s.shape), expected F16 \(scaleShape)")
                }
                let raw = file.bytes(s).pointer
                guard Int(bitPattern: raw) % 2 == 0 else { throw JukeboxError(file.path, "tensor \(scalesKey) is not 2-byte aligned") }
                try PackedWeightKeys.checkFinite(raw.assumingMemoryBound(to: UInt16.self), count: s.count, key: scalesKey, path: file.path)
                scales = raw.assumingMemoryBound(to: UInt16.self)
                markTaken(scalesKey)
            }
            markTaken(valuesKey)
            let (pointer, owner) = file.bytes(e)
            return PackedMatrix(format: format, nOut: nOut, nIn: nIn, data: pointer, scales: scales, owner: owner).tiledForSampling()
        }
        return nil
    }
}

extension PackedWeightKeys {
    /// A scale that is infinite or NaN would turn a whole group into garbage: refused, naming the tensor.
    static func checkFinite(_ halves: UnsafePointer<UInt16>, count: Int, key: String, path: String) throws {
        for i in 0..<count where halves[i] & 0x7C00 == 0x7C00 {
            throw JukeboxError(path, "tensor \(key) holds a scale that is not finite (entry \(i))")
        }
    }
}
