import JukeboxCore

/// Deterministic mutations of seed files, the suite's quick stand-in for a fuzzer: each round takes a seed in
/// turn and flips a byte, cuts it short, inserts a byte, or sets four bytes to extremes.
public struct Mutations {
    /// Bytes to insert (a format's own punctuation finds more than random bytes); nil: any byte.
    public var inserted: [UInt8]?
    /// Values the last kind of mutation writes.
    public var extremes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80]
    public var seed: UInt64 = 42

    public init(inserted: [UInt8]? = nil, extremes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80], seed: UInt64 = 42) {
        (self.inserted, self.extremes, self.seed) = (inserted, extremes, seed)
    }

    public func run(_ seeds: [[UInt8]], rounds: Int, _ body: ([UInt8]) -> Void) {
        var rng = SeededGenerator(seed: seed)
        for i in 0..<rounds {
            var b = seeds[i % seeds.count]
            switch rng.next() % 4 {
            case 0: if !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(truncatingIfNeeded: rng.next()) }
            case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))
            case 2:
                if !b.isEmpty {
                    let byte = inserted.map { $0[Int(rng.next() % UInt64($0.count))] } ?? UInt8(truncatingIfNeeded: rng.next())
                    b.insert(byte, at: Int(rng.next() % UInt64(b.count)))
                }
            default:
                for _ in 0..<4 where !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] = extremes[Int(rng.next() % UInt64(extremes.count))] }
            }
            body(b)
        }
    }
}
