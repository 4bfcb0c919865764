import CKernels
import Foundation

extension TensorLookup {
    /// Random weights made on demand, each tensor from its own seed: the transformers' matrices directly in
    /// `format` (so a 5-billion-parameter benchmark model never exists in float32), everything else float32
    /// following the reference's init. Uniform values of the init's standard deviation: benchmarks measure
    /// speed, not what the weights say.
    public static func random(seed: UInt64, format: WeightFormat) -> TensorLookup {
        final class Made { var tensors: [String: Tensor] = [:] }
        let made = Made()
        func keySeed(_ key: String) -> UInt64 {
            var h: UInt64 = 0xcbf29ce484222325 ^ seed
            for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return h
        }
        func std(_ spec: ParameterSpec) -> Float {
            if case .normal(let s) = spec.initial { return Float(s) }
            return 0.02
        }
        func make(_ spec: ParameterSpec) throws -> Tensor {
            if let t = made.tensors[spec.key] { return t }
            let t: Tensor
            switch spec.initial {
            case .normal(let s):
                t = Tensor(zeros: spec.shape)
                let n = spec.count
                jk_random_packed(WeightFormat.f32.code, 1, Int32(clamping: n), Float(s), keySeed(spec.key), t.data, nil)
            case .zeros: t = Tensor(zeros: spec.shape)
            case .ones:
                t = Tensor(zeros: spec.shape)
                t.data.update(repeating: 1, count: spec.count)
            case .sameAs(let other):
                guard let o = made.tensors[other] else { throw JukeboxError("random weights", "\(spec.key) ties to \(other), not made yet") }
                t = o
            }
            made.tensors[spec.key] = t
            return t
        }
        return TensorLookup(lookup: make, packed: { spec in
            guard format != .f32, spec.shape.count == 2 else { return nil }
            return PackedMatrix.random(format: format.forMatrix(nIn: spec.shape[0], nOut: spec.shape[1]),
                                       nIn: spec.shape[0], nOut: spec.shape[1], std: std(spec),
                                       seed: keySeed(spec.key)).tiledForSampling()
        })
    }
}
