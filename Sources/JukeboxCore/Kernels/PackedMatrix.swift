import CBLAS
import CKernels
import Foundation
import JukeboxFormats

/// A Conv1D weight (y = x·w + b, w [nIn, nOut]) kept in a sampling format, output-major: output j's nIn
/// weights are contiguous, so a token's product reads each weight once and serves every batch row with it.
/// The bytes are borrowed from a memory-mapped model file, or owned when packed or transposed here.
public final class PackedMatrix: @unchecked Sendable {
    public let format: WeightFormat
    public let nOut: Int
    public let nIn: Int
    let data: UnsafeRawPointer
    let scales: UnsafePointer<UInt16>?
    /// Whether the bytes are in the kernels' tiles of 16 outputs (`tiledForSampling`), not as a file keeps them.
    public let tiled: Bool
    private let owned: UnsafeMutableRawPointer?
    /// The size of an owned mapping (0: the allocator's memory).
    private let ownedBytes: Int
    private let owner: AnyObject?

    /// Borrowed bytes that `owner` keeps alive.
    init(format: WeightFormat, nOut: Int, nIn: Int, data: UnsafeRawPointer, scales: UnsafePointer<UInt16>?,
         owner: AnyObject) {
        self.format = format
        self.nOut = nOut
        self.nIn = nIn
        self.data = data
        self.scales = scales
        tiled = false
        owned = nil
        ownedBytes = 0
        self.owner = owner
    }

    /// Owned, uninitialised storage for `fill` to write (values, then scales), as a file keeps them or tiled.
    private init(format: WeightFormat, nOut: Int, nIn: Int, tiled: Bool = false,
                 fill: (UnsafeMutableRawPointer, UnsafeMutablePointer<UInt16>?) -> Void) {
        self.format = format
        self.nOut = nOut
        self.nIn = nIn
        self.tiled = tiled
        let valueBytes = tiled ? jk_tiled_bytes(format.code, Int32(nOut), Int32(nIn)) : PackedMatrix.valueBytes(format, nOut: nOut, nIn: nIn)
        let scaleCount = tiled ? jk_tiled_scale_count(format.code, Int32(nOut), Int32(nIn)) : PackedMatrix.scaleCount(format, nOut: nOut, nIn: nIn)
        let (p, mapped) = OwnedPages.allocate(byteCount: valueBytes + 2 * scaleCount)
        let s = scaleCount > 0 ? (p + valueBytes).bindMemory(to: UInt16.self, capacity: scaleCount) : nil
        fill(p, s)
        owned = p
        ownedBytes = mapped ? valueBytes + 2 * scaleCount : 0
        data = UnsafeRawPointer(p)
        scales = s.map { UnsafePointer($0) }
        owner = nil
    }

    deinit { if let owned { OwnedPages.deallocate(owned, mappedBytes: ownedBytes) } }

    static func valueBytes(_ f: WeightFormat, nOut: Int, nIn: Int) -> Int { jk_packed_bytes(f.code, Int32(nOut), Int32(nIn)) }
    static func scaleCount(_ f: WeightFormat, nOut: Int, nIn: Int) -> Int { jk_scale_count(f.code, Int32(nOut), Int32(nIn)) }

    /// The packed values and scales as stored in a model file.
    var valueBuffer: UnsafeRawBufferPointer {
        invariant(!tiled, "valueBuffer: a tiled matrix is not as a file keeps it")
        return UnsafeRawBufferPointer(start: data, count: PackedMatrix.valueBytes(format, nOut: nOut, nIn: nIn))
    }
    var scaleBuffer: UnsafeRawBufferPointer {
        invariant(!tiled, "scaleBuffer: a tiled matrix is not as a file keeps it")
        return UnsafeRawBufferPointer(start: scales.map { UnsafeRawPointer($0) }, count: 2 * PackedMatrix.scaleCount(format, nOut: nOut, nIn: nIn))
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

    /// A [nIn, nOut] weight stored as 16-bit floats (published checkpoints) turned output-major, still 16-bit:
    /// straight into the kernels' tiles where they are used here (`tiledForSampling`), rows otherwise.
    static func transposingHalf(_ source: UnsafeRawPointer, format: WeightFormat, nIn: Int, nOut: Int) -> PackedMatrix {
        invariant(format == .f16 || format == .bf16, "transposingHalf: \(format) is not a 16-bit float")
        if WeightKernels.tilesAvailable(for: format) {
            return PackedMatrix(format: format, nOut: nOut, nIn: nIn, tiled: true) { values, _ in
                // Tile t, input i: outputs 16t…16t+15 side by side, as the file holds them along a row.
                let out = values.bindMemory(to: UInt16.self, capacity: (nOut + 15) / 16 * 16 * nIn)
                parallelFor((nOut + 15) / 16) { tiles in
                    for t in tiles {
                        let tile = out + t * 16 * nIn, j0 = t * 16, count = min(16, nOut - j0)
                        for i in 0..<nIn {
                            for l in 0..<16 {
                                tile[i * 16 + l] = l < count
                                    ? source.loadUnaligned(fromByteOffset: 2 * (i * nOut + j0 + l), as: UInt16.self) : 0
                            }
                        }
                    }
                }
            }
        }
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

    fileprivate var matrix: jk_matrix {
        jk_matrix(format: format.code, n_out: Int32(nOut), n_in: Int32(nIn), data: data, scales: scales, tiled: tiled ? 1 : 0)
    }

    /// The matrix as the sampling kernels compute it fastest: q8 and q4 in tiles of 16 outputs where the CPU
    /// has integer dot products (AVX-512 VNNI), so a group's scaling serves 16 outputs and a weight read
    /// serves every batch row for a few instructions; f16 and bf16 in tiles where it has AVX-512, so that each
    /// thread's weights are one stream; itself otherwise. A tiled copy is owned (the same size), and the
    /// pages of a borrowed file mapping it was made from are handed back to the kernel, so resident memory
    /// does not double.
    public func tiledForSampling() -> PackedMatrix {
        guard !tiled, jk_tiles_available_for(format.code) != 0 else { return self }
        var source = matrix
        let copy = PackedMatrix(format: format, nOut: nOut, nIn: nIn, tiled: true) { values, scales in
            jk_tile(&source, values, scales)
        }
        if let region = owner as? MappedRegion {
            // Only a file mapping: its pages come back from the file if anything reads them again.
            region.evict(data, count: valueBuffer.count)
            if let scales { region.evict(UnsafeRawPointer(scales), count: scaleBuffer.count) }
        }
        return copy
    }

    /// The largest batch whose rows go through the streaming kernel; more rows (priming, full forwards)
    /// are computed by unpacking blocks of outputs to float32 for sgemm.
    static let streamingRows = 16

    /// out[rows, nOut] = x[rows, nIn]·w + b.
    func apply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
               then epilogue: ProductEpilogue = .none, next: PackedMatrix? = nil) {
        var m = matrix
        if rows <= PackedMatrix.streamingRows {
            // The streaming kernels apply the epilogue on each thread's own outputs as they finish them.
            var nextMatrix = next?.matrix ?? jk_matrix()
            withUnsafePointer(to: &nextMatrix) { nextPointer in
                var e = epilogue.kernelEpilogue(nOut: nOut, next: next == nil ? nil : nextPointer)
                jk_matvec_then(&m, x, Int32(nIn), Int32(rows), bias, out, Int32(nOut), &e)
            }
            return
        }
        defer { epilogue.apply(out, count: rows * nOut) }
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
    /// Which CPU's measured settings the kernels use: "amd", "amd-zen5" or "intel" (`JK_TUNING` forces one).
    public static var tuning: String { String(cString: jk_tuning_name()) }
    /// The CPU's model as the kernel names it (Linux /proc/cpuinfo), so a benchmark's figures say what gave them.
    public static let cpu: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }()
    /// Whether q8 and q4 matrices are tiled for integer dot products here (`PackedMatrix.tiledForSampling`).
    public static var tilesAvailable: Bool { jk_tiles_available() != 0 }
    /// Whether matrices of `format` are tiled here.
    public static func tilesAvailable(for format: WeightFormat) -> Bool { jk_tiles_available_for(format.code) != 0 }
}

/// A buffer kept for measuring the memory's read bandwidth again and again while a benchmark runs, so that
/// each measurement of the kernels sits beside one of the memory taken moments before (this machine's
/// bandwidth drifts by a third from minute to minute).
public final class BandwidthProbe {
    public let bytes: Int
    private let buffer: UnsafeMutableRawPointer
    private let mapped: Bool

    /// The buffer is held in memory as the kernels' weights are (OwnedPages), so both are read alike.
    public init(bytes: Int) {
        self.bytes = max(bytes, 1 << 20)
        (buffer, mapped) = OwnedPages.allocate(byteCount: self.bytes)
        memset(buffer, 1, self.bytes)
    }

    deinit { OwnedPages.deallocate(buffer, mappedBytes: mapped ? bytes : 0) }

    /// The best of `passes` reads of the whole buffer on the kernels' threads, in bytes per second.
    public func measure(passes: Int = 2) -> Double {
        jk_read_bandwidth(buffer, bytes, Int32(passes))
    }
}

/// Storage of owned matrices: a large one in its own anonymous mapping, so that freeing it gives the
/// memory back at once (the allocator would keep a freed block of a model's size for later, and a matrix
/// tiled from another would leave the process holding both).
enum OwnedPages {
    static let mappedFrom = 1 << 20

    /// The storage, and whether it is a mapping of its own.
    static func allocate(byteCount: Int) -> (UnsafeMutableRawPointer, mapped: Bool) {
        let n = max(byteCount, 1)
        if n >= mappedFrom, let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            return (p, true)
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64), false)
    }

    /// `mappedBytes`: the mapping's size, or 0 for the allocator's memory.
    static func deallocate(_ p: UnsafeMutableRawPointer, mappedBytes: Int) {
        if mappedBytes > 0 { munmap(p, mappedBytes) } else { p.deallocate() }
    }
}
