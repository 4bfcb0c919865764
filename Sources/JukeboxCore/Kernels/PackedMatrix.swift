import CBLAS
import CKernels
import Foundation

/// A Conv1D weight (y = x·w + b, w [nIn, nOut]) kept in a sampling format, output-major: output j's nIn
/// weights are contiguous, so a token's product reads each weight once and serves every batch row with it.
/// The bytes are borrowed from a memory-mapped model file, or owned when packed or transposed here.
public final class PackedMatrix: @unchecked Sendable {
    public let format: WeightFormat
    public let nOut: Int
    public let nIn: Int
    let data: UnsafeRawPointer
    let scales: UnsafePointer<UInt16>?
    private let owned: UnsafeMutableRawPointer?
    private let owner: AnyObject?

    /// Borrowed bytes that `owner` keeps alive.
    init(format: WeightFormat, nOut: Int, nIn: Int, data: UnsafeRawPointer, scales: UnsafePointer<UInt16>?,
         owner: AnyObject) {
        self.format = format
        self.nOut = nOut
        self.nIn = nIn
        self.data = data
        self.scales = scales
        owned = nil
        self.owner = owner
    }

    /// Owned, uninitialised storage for `fill` to write (values, then scales).
    private init(format: WeightFormat, nOut: Int, nIn: Int,
                 fill: (UnsafeMutableRawPointer, UnsafeMutablePointer<UInt16>?) -> Void) {
        self.format = format
        self.nOut = nOut
        self.nIn = nIn
        let valueBytes = PackedMatrix.valueBytes(format, nOut: nOut, nIn: nIn)
        let scaleCount = PackedMatrix.scaleCount(format, nOut: nOut, nIn: nIn)
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(valueBytes + 2 * scaleCount, 1), alignment: 64)
        let s = scaleCount > 0 ? (p + valueBytes).bindMemory(to: UInt16.self, capacity: scaleCount) : nil
        fill(p, s)
        owned = p
        data = UnsafeRawPointer(p)
        scales = s.map { UnsafePointer($0) }
        owner = nil
    }

    deinit { owned?.deallocate() }

    static func valueBytes(_ f: WeightFormat, nOut: Int, nIn: Int) -> Int { jk_packed_bytes(f.code, Int32(nOut), Int32(nIn)) }
    static func scaleCount(_ f: WeightFormat, nOut: Int, nIn: Int) -> Int { jk_scale_count(f.code, Int32(nOut), Int32(nIn)) }

    /// The packed values and scales as stored in a model file.
    var valueBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data, count: PackedMatrix.valueBytes(format, nOut: nOut, nIn: nIn))
    }
    var scaleBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: scales.map { UnsafeRawPointer($0) }, count: 2 * PackedMatrix.scaleCount(format, nOut: nOut, nIn: nIn))
    }

    /// Bytes a token's product streams: the values and their scales.
    public var bytes: Int { format.matrixBytes(nOut: nOut, nIn: nIn) }

    /// Packs a Conv1D weight w [nIn, nOut] (float32) into `format`.
    public static func pack(_ w: Tensor, format: WeightFormat) -> PackedMatrix {
        invariant(w.rank == 2, "pack: weight \(w.shape) is not a matrix")
        let nIn = w.shape[0], nOut = w.shape[1]
        return PackedMatrix(format: format, nOut: nOut, nIn: nIn) { values, scales in
            jk_pack(w.data, Int32(nIn), Int32(nOut), format.code, values, scales)
        }
    }

    /// A [nIn, nOut] weight stored as 16-bit floats (published checkpoints) turned output-major, still 16-bit.
    static func transposingHalf(_ source: UnsafeRawPointer, format: WeightFormat, nIn: Int, nOut: Int) -> PackedMatrix {
        invariant(format == .f16 || format == .bf16, "transposingHalf: \(format) is not a 16-bit float")
        return PackedMatrix(format: format, nOut: nOut, nIn: nIn) { values, _ in
            let out = values.bindMemory(to: UInt16.self, capacity: nOut * nIn)
            let tile = 64
            parallelFor((nOut + tile - 1) / tile) { tiles in
                for t in tiles {
                    let j0 = t * tile, j1 = min(j0 + tile, nOut)
                    for i in 0..<nIn {
                        for j in j0..<j1 {
                            out[j * nIn + i] = source.loadUnaligned(fromByteOffset: 2 * (i * nOut + j), as: UInt16.self)
                        }
                    }
                }
            }
        }
    }

    /// Random weights of standard deviation `std` in `format` (benchmarks of the published shapes).
    public static func random(format: WeightFormat, nIn: Int, nOut: Int, std: Float, seed: UInt64) -> PackedMatrix {
        return PackedMatrix(format: format, nOut: nOut, nIn: nIn) { values, scales in
            jk_random_packed(format.code, Int32(nOut), Int32(nIn), std, seed, values, scales)
        }
    }

    private var matrix: jk_matrix {
        jk_matrix(format: format.code, n_out: Int32(nOut), n_in: Int32(nIn), data: data, scales: scales)
    }

    /// The largest batch whose rows go through the streaming kernel; more rows (priming, full forwards)
    /// are computed by unpacking blocks of outputs to float32 for sgemm.
    static let streamingRows = 16

    /// out[rows, nOut] = x[rows, nIn]·w + b.
    func apply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
        var m = matrix
        if rows <= PackedMatrix.streamingRows {
            jk_matvec_parallel(&m, x, Int32(nIn), Int32(rows), bias, out, Int32(nOut))
            return
        }
        if let bias { for r in 0..<rows { (out + r * nOut).update(from: bias, count: nOut) } }
        let block = max(16, min(nOut, (1 << 20) / max(nIn, 1)))
        let unpacked = UnsafeMutablePointer<Float>.allocate(capacity: block * nIn)
        defer { unpacked.deallocate() }
        var j0 = 0
        while j0 < nOut {
            let j1 = min(j0 + block, nOut)
            jk_dequantize_rows(&m, Int32(j0), Int32(j1), unpacked)
            BLAS.gemm(x, unpacked, out + j0, m: rows, n: j1 - j0, k: nIn, transB: true,
                      beta: bias == nil ? 0 : 1, ldb: nIn, ldc: nOut)
            j0 = j1
        }
    }

    /// The weight as float32 in the Conv1D layout [nIn, nOut] (what the packed bytes hold; for tests).
    public func unpacked() -> Tensor {
        var m = matrix
        let rowsMajor = UnsafeMutablePointer<Float>.allocate(capacity: max(nOut * nIn, 1))
        defer { rowsMajor.deallocate() }
        jk_dequantize_rows(&m, 0, Int32(nOut), rowsMajor)
        let t = Tensor(zeros: [nIn, nOut])
        for j in 0..<nOut { for i in 0..<nIn { t.data[i * nOut + j] = rowsMajor[j * nIn + i] } }
        return t
    }
}

/// The weight-streaming kernels' own settings and probes.
public enum WeightKernels {
    /// The instruction set the kernels run on here.
    public static var isa: String { String(cString: jk_kernel_isa()) }
    public static var threads: Int { Int(jk_threads()) }

    /// Bytes per second of reading `bytes` bytes (in a buffer of that size) on the kernels' threads: the
    /// memory roofline a token that streams that many bytes can at best reach.
    public static func readBandwidth(bytes: Int, passes: Int = 5) -> Double {
        let n = max(bytes, 1 << 20)
        let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        defer { p.deallocate() }
        memset(p, 1, n)
        return jk_read_bandwidth(p, n, Int32(passes))
    }
}
