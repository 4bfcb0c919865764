import Foundation

/// A small, fast, reproducible generator (SplitMix64) for random weights and test data.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1 / Float(1 << 24)) }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * (1 / Double(1 << 53)), 1e-300)
        let u2 = Double(next() >> 11) * (1 / Double(1 << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Fills `n` floats with normal numbers of standard deviation `std`.
    public mutating func fill(_ p: UnsafeMutablePointer<Float>, _ n: Int, std: Double) {
        for i in 0..<n { p[i] = Float(Double(nextNormal()) * std) }
    }
}
