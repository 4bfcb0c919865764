import Foundation

/// One weight format's matrix-vector product alone, at each batch size: enough matrices of one shape to
/// overflow every cache (so each product streams its weights from memory, as a sampling step does),
/// multiplied in turn, beside the memory bandwidth measured in the same run. It tells the kernels' own
/// cost from everything else a step does (norms, attention, sampling, the threads' hand-offs).
public enum MatvecBenchmark {
    public struct Row: Sendable {
        public let batch: Int
        public let microsecondsPerProduct: Double
        /// Weight bytes streamed per second.
        public let bytesPerSecond: Double
        /// The memory's read bandwidth measured just before this batch size's products.
        public let bandwidthBytesPerSecond: Double
    }

    public struct Result: Sendable {
        public let format: WeightFormat
        public let nIn: Int, nOut: Int
        public let tiled: Bool
        public let bandwidthBytesPerSecond: Double
        public let rows: [Row]
    }

    /// `batches` each timed over `repeats` passes through the matrices; `tiles` false keeps the file's layout.
    public static func run(format: WeightFormat, nIn: Int, nOut: Int, batches: [Int], repeats: Int = 10,
                           tiles: Bool = true, megabytes: Int = 1024) throws -> Result {
        guard nIn > 0, nOut > 0, nIn <= 65536, repeats > 0, (1...65536).contains(megabytes), batches.allSatisfy({ (1...PackedMatrix.streamingRows).contains($0) }) else {
            throw JukeboxError("bench matvec", "shapes and --megabytes must be 1…65536, batches 1…\(PackedMatrix.streamingRows), repeats positive")
        }
        let one = format.matrixBytes(nOut: nOut, nIn: nIn)
        // A gigabyte of matrices by default (at least 8): far past any cache.
        let count = max(8, megabytes << 20 / max(one, 1))
        let matrices = (0..<count).map { k in
            let m = PackedMatrix.random(format: format, nIn: nIn, nOut: nOut, std: 0.02, seed: UInt64(k + 1))
            return tiles ? m.tiledForSampling() : m
        }
        // The bandwidth is read again before each batch size's products (this machine's drifts from minute
        // to minute), over a buffer as large as the matrices.
        let probe = BandwidthProbe(bytes: count * one)
        let maxBatch = batches.max() ?? 1
        var x = [Float](repeating: 0, count: maxBatch * nIn), y = [Float](repeating: 0, count: maxBatch * nOut)
        for i in x.indices { x[i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
        var rows: [Row] = []
        for batch in batches {
            let bandwidth = probe.measure()
            let start = Date()
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for _ in 0..<repeats { for m in matrices { m.apply(xp.baseAddress!, rows: batch, bias: nil, yp.baseAddress!) } }
                }
            }
            let seconds = Date().timeIntervalSince(start), products = Double(repeats * count)
            rows.append(Row(batch: batch, microsecondsPerProduct: seconds / products * 1e6, bytesPerSecond: Double(one) * products / seconds,
                            bandwidthBytesPerSecond: bandwidth))
        }
        return Result(format: format, nIn: nIn, nOut: nOut, tiled: matrices.first?.tiled ?? false,
                      bandwidthBytesPerSecond: rows.map(\.bandwidthBytesPerSecond).reduce(0, +) / Double(max(rows.count, 1)), rows: rows)
    }
}
