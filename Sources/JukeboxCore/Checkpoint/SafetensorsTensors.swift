import Foundation
import JukeboxFormats

extension SafetensorsFile {
    /// A float tensor. F32 data that is 4-byte aligned is borrowed from the mapping, not copied;
    /// F16/BF16 (and integer) data is converted to float32.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let p = raw(e)
        let n = e.count
        switch e.dtype {
        case .f32:
            if Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 {
                let storage = TensorStorage(borrowing: p.assumingMemoryBound(to: Float.self), count: n, owner: region)
                return Tensor(shape: e.shape, storage: storage)
            }
            let t = Tensor(zeros: e.shape)
            memcpy(t.data, p, n * 4)
            return t
        case .f16, .bf16:
            let t = Tensor(zeros: e.shape)
            let isF16 = e.dtype == .f16
            for i in 0..<n {
                let h = p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                t.data[i] = isF16 ? HalfPrecision.f16ToF32(h) : HalfPrecision.bf16ToF32(h)
            }
            return t
        case .i64, .i32:
            let ints = try int64s(name)
            return Tensor(shape: e.shape, values: ints.map { Float($0) })
        case .i8, .u8:
            throw JukeboxError(path, "tensor \(name) holds packed \(e.dtype.rawValue) weights, not floats")
        }
    }
}
