import CKernels

/// How a transformer's large matrices are kept in memory and on disk. f32 is the reference's own
/// arithmetic; the others trade exactness for bytes, and sampling streams every byte once per token.
///   f16, bf16   the 16-bit floats the published checkpoints are stored in
///   q8          int8 values with one binary16 scale per 32 (8.5 bits a weight)
///   q4          4-bit values −8…7 with one binary16 scale per 32 (4.5 bits a weight)
public enum WeightFormat: String, CaseIterable, Sendable {
    case f32, f16, bf16, q8, q4

    /// The kernels' format code (jk_kernels.h).
    var code: Int32 {
        switch self {
        case .f32: Int32(JK_F32)
        case .f16: Int32(JK_F16)
        case .bf16: Int32(JK_BF16)
        case .q8: Int32(JK_Q8)
        case .q4: Int32(JK_Q4)
        }
    }

    /// Values sharing one scale in q8 and q4 (rows are padded with zero weights to whole groups).
    public static let group = Int(JK_GROUP)

    public var isQuantized: Bool { self == .q8 || self == .q4 }

    /// Bits per weight, scales included.
    public var bitsPerWeight: Double {
        switch self {
        case .f32: 32
        case .f16, .bf16: 16
        case .q8: 8 + 16.0 / 32
        case .q4: 4 + 16.0 / 32
        }
    }

    /// Matrices with fewer weights than this keep q8 in a q4 model: four bits cost small models' layers
    /// the most (measured on the bundled upsamplers, width 128: +0.18 bits a token at q4, +0.0005 at q8)
    /// and save the least bandwidth. Every matrix of the published models is larger.
    public static let smallMatrixWeights = 1 << 18

    /// The format a matrix of nIn × nOut weights takes in a model of this format.
    public func forMatrix(nIn: Int, nOut: Int) -> WeightFormat {
        self == .q4 && nIn * nOut < WeightFormat.smallMatrixWeights ? .q8 : self
    }

    /// Bytes a matrix of nOut × nIn weights takes in this format: its values (rows padded to whole groups)
    /// and its scales.
    public func matrixBytes(nOut: Int, nIn: Int) -> Int {
        jk_packed_bytes(code, Int32(nOut), Int32(nIn)) + 2 * jk_scale_count(code, Int32(nOut), Int32(nIn))
    }

    /// Values stored per row of a matrix with `nIn` inputs.
    public func rowLength(nIn: Int) -> Int { Int(jk_row_length(code, Int32(nIn))) }

    /// The safetensors dtype of the packed values.
    var storageDType: SafetensorsDType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q8: .i8
        case .q4: .u8
        }
    }

    /// The packed values' shape for a matrix of nOut outputs and nIn inputs (output-major).
    func storageShape(nOut: Int, nIn: Int) -> [Int] {
        let len = rowLength(nIn: nIn)
        return self == .q4 ? [nOut, len / 2] : [nOut, len]
    }

    /// The scales' shape (q8 and q4).
    func scaleShape(nOut: Int, nIn: Int) -> [Int] { [nOut, rowLength(nIn: nIn) / WeightFormat.group] }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
