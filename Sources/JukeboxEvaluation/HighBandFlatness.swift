import Foundation
import JukeboxCore

/// How noise-like the high band (4–22 kHz) of a recording is: per frame, the spectral flatness of its
/// power there (geometric over arithmetic mean: about 0.56 for white noise in one frame, near 0 for a few
/// harmonics), averaged over the frames where the band carries sound, each weighted by the band's power in
/// it (what is heard: a loud frame's hiss counts more than a faint one's). A codec that keeps an
/// instrument's upper harmonics keeps the clean song's low figure; one that rebuilds them as hiss raises it.
public enum HighBandFlatness {
    public static let lowHz = 4000.0, highHz = 22000.0
    static let size = 2048, hop = 1024
    /// Frames whose band energy is this far below the loudest frame's are left out: in near silence the
    /// band holds only rounding noise, flat whatever the codec did.
    static let floorDB = 60.0
    /// And so are frames whose band holds less than this mean power a bin: far below 16-bit audio's own
    /// rounding noise (about 6e-8 a bin with this window), so only digital silence falls under it.
    static let silentPower = 1e-12

    /// One frame's band: its flatness and its mean power a bin.
    public struct Frame: Sendable {
        public let flatness: Double
        public let energy: Double
    }

    /// The band of every frame of mono `samples` at `sampleRate` (bins above the Nyquist frequency are left out).
    public static func frames(_ samples: [Float], sampleRate: Int) -> [Frame] {
        let fft = FFT(size: size)
        let window = (0..<size).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(size))) }
        let binHz = Double(sampleRate) / Double(size)
        let low = Int((lowHz / binHz).rounded(.up)), high = min(Int((highHz / binHz).rounded(.down)), size / 2)
        guard low < high else { return [] }
        var out: [Frame] = []
        var start = 0
        while start + size <= samples.count {
            var frame = [Float](repeating: 0, count: size)
            for i in 0..<size { frame[i] = samples[start + i] * window[i] }
            let power = fft.powerSpectrum(frame)
            var sum = 0.0, logSum = 0.0
            for k in low...high {
                sum += Double(power[k])
                // A floor far below any audible bin keeps log(0) out of exact digital silence.
                logSum += log(Double(power[k]) + 1e-20)
            }
            let n = Double(high - low + 1)
            out.append(Frame(flatness: exp(logSum / n) / (sum / n + 1e-20), energy: sum / n))
            start += hop
        }
        return out
    }

    /// The frames that carry sound: band energy within `floorDB` of the loudest frame's.
    public static func sounding(_ frames: [Frame]) -> [Bool] {
        let loudest = frames.map(\.energy).max() ?? 0
        let floor = loudest * pow(10, -floorDB / 10)
        return frames.map { $0.energy >= max(floor, silentPower) }
    }

    /// Flatness pooled by power over the frames of one or many recordings.
    public struct Pool: Sendable {
        var sum = 0.0, weight = 0.0

        public init() {}

        /// Adds `frames` marked by `selected` (their own sounding frames when nil).
        public mutating func add(_ frames: [Frame], selected: [Bool]? = nil) {
            for (f, keep) in zip(frames, selected ?? sounding(frames)) where keep {
                sum += f.flatness * f.energy
                weight += f.energy
            }
        }

        /// The pooled flatness; nil when no frame with power was added.
        public var value: Double? { weight > 0 ? sum / weight : nil }
    }

    /// Power-weighted mean flatness of `frames` over those `selected` marks (its own sounding frames when
    /// nil); nil when none is marked or they hold no power.
    public static func mean(_ frames: [Frame], selected: [Bool]? = nil) -> Double? {
        var pool = Pool()
        pool.add(frames, selected: selected)
        return pool.value
    }

    /// The flatness of mono `samples` over their own sounding frames.
    public static func measure(_ samples: [Float], sampleRate: Int) -> Double? {
        mean(frames(samples, sampleRate: sampleRate))
    }
}
