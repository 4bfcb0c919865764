import Foundation

/// A fixed-length summary of a stretch of audio that tells genres apart: timbre (log-mel band means
/// and spreads, spectral centroid, flatness), dynamics, and rhythm (how the onset envelope repeats at
/// tempo-sized lags). Computed at 22.05 kHz whatever the input's rate.
public enum AudioFeatures {
    public static let sampleRate = 22050
    static let frameSize = 1024, hop = 512, melBands = 32
    /// Tempo lags probed by the rhythm features, in beats per minute.
    static let tempi: [Double] = stride(from: 0.0, to: 14, by: 1).map { 60 * pow(2, $0 / 6) }

    public static var count: Int { 2 * melBands + tempi.count + 7 }

    static let fft = FFT(size: frameSize)
    static let window: [Float] = (0..<frameSize).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(frameSize))) }
    static let melFilters: [[(bin: Int, weight: Float)]] = makeMelFilters()

    /// Features of mono `samples` at `rate`; at least one frame of audio is needed.
    public static func extract(_ samples: [Float], sampleRate rate: Int) -> [Float] {
        analyse(samples, sampleRate: rate).features
    }

    /// The tempo the onset envelope repeats at most strongly, in beats per minute, between 60 and 200
    /// (a beat's multiples and halves compete too, so a caller should accept half and double).
    public static func tempo(_ samples: [Float], sampleRate rate: Int) -> Double {
        beat(samples, sampleRate: rate).bpm
    }

    /// The tempo as `tempo` finds it, and how strongly the onset envelope repeats at it: its
    /// autocorrelation at that lag, near 1 for a steady beat, near 0 where onsets fall at random.
    public static func beat(_ samples: [Float], sampleRate rate: Int) -> (bpm: Double, strength: Float) {
        let flux = analyse(samples, sampleRate: rate).flux
        let framesPerSecond = Double(sampleRate) / Double(hop)
        let lags = Int((60 / 200 * framesPerSecond).rounded(.up))...Int((60 / 60 * framesPerSecond).rounded(.down))
        let best = lags.filter { $0 < flux.count }.map { (lag: $0, strength: autocorrelation(flux, lag: $0)) }.max { $0.strength < $1.strength }
        return best.map { (60 * framesPerSecond / Double($0.lag), $0.strength) } ?? (0, 0)
    }

    /// Where the beats of `bpm` fall in `samples`: the time of the first one, in seconds (below one beat),
    /// at the offset whose beat grid gathers the most onset flux. Frames are 23 ms apart, so the answer is
    /// good to about that.
    public static func firstBeat(_ samples: [Float], sampleRate rate: Int, bpm: Double) -> Double {
        firstBeat(flux: analyse(samples, sampleRate: rate).flux, bpm: bpm)
    }

    /// `firstBeat` of an onset envelope already computed (`onsetFlux`).
    static func firstBeat(flux: [Float], bpm: Double) -> Double {
        let framesPerSecond = Double(sampleRate) / Double(hop)
        let period = 60 / bpm * framesPerSecond
        guard period >= 1, !flux.isEmpty else { return 0 }
        var best = (offset: 0, sum: -Float.infinity)
        for offset in 0..<Int(period.rounded(.up)) {
            var sum: Float = 0
            var k = 0.0
            while true {
                let frame = Int((Double(offset) + k * period).rounded())
                guard frame < flux.count else { break }
                sum += flux[frame]
                k += 1
            }
            if sum > best.sum { best = (offset, sum) }
        }
        // An onset shows in the flux of the frame whose window it reaches the middle of; that can pass a
        // whole beat, which is the same place in the grid.
        let seconds = (Double(best.offset * hop) + Double(frameSize) / 2) / Double(sampleRate)
        return seconds.truncatingRemainder(dividingBy: 60 / bpm)
    }

    /// Whether a measured tempo is `bpm`, or half or double it, within 6%.
    public static func tempo(_ measured: Double, matches bpm: Double) -> Bool {
        [0.5, 1, 2].contains { abs(measured / (bpm * $0) - 1) < 0.06 }
    }

    /// The onset envelope: how much each frame's log-mel bands rose over the previous frame's, one value
    /// per `hop` samples at `sampleRate` (the first frame 0).
    static func onsetFlux(_ samples: [Float], sampleRate rate: Int) -> [Float] {
        analyse(samples, sampleRate: rate).flux
    }

    static var framesPerSecond: Double { Double(sampleRate) / Double(hop) }

    private static func analyse(_ samples: [Float], sampleRate rate: Int) -> (features: [Float], flux: [Float]) {
        let x = rate == sampleRate ? samples : Resampler.resample(samples, from: rate, to: sampleRate)
        let frames = max(1, (x.count - frameSize) / hop + 1)
        var logMel = [[Float]](), centroid = [Float](), flatness = [Float](), energy = [Float]()
        var flux = [Float]()
        var previous = [Float](repeating: 0, count: melBands)
        for f in 0..<frames {
            var frame = [Float](repeating: 0, count: frameSize)
            for i in 0..<frameSize where f * hop + i < x.count { frame[i] = x[f * hop + i] * window[i] }
            let power = fft.powerSpectrum(frame)
            let mel = melFilters.map { band in log(band.reduce(Float(1e-8)) { $0 + $1.weight * power[$1.bin] }) }
            logMel.append(mel)
            let total = power.reduce(0, +) + 1e-12
            centroid.append(power.enumerated().reduce(0) { $0 + Float($1.offset) * $1.element } / total / Float(power.count))
            let logMean = power.reduce(0) { $0 + log($1 + 1e-12) } / Float(power.count)
            flatness.append(exp(logMean) / (total / Float(power.count)))
            energy.append(log(total))
            flux.append(zip(mel, previous).reduce(0) { $0 + max($1.0 - $1.1, 0) })
            previous = mel
        }
        flux[0] = 0
        var features: [Float] = []
        for b in 0..<melBands {
            let column = logMel.map { $0[b] }
            features += [mean(column), spread(column)]
        }
        features += rhythm(flux)
        features += [mean(centroid), spread(centroid), mean(flatness), spread(energy), mean(flux), spread(flux),
                     Float(frames) > 1 ? autocorrelation(energy, lag: 1) : 0]
        return (features, flux)
    }

    /// How strongly the onset envelope repeats at each probed tempo's beat (normalised autocorrelation).
    static func rhythm(_ flux: [Float]) -> [Float] {
        let framesPerSecond = Double(sampleRate) / Double(hop)
        return tempi.map { bpm in
            let lag = Int((60 / bpm * framesPerSecond).rounded())
            return lag < flux.count ? autocorrelation(flux, lag: lag) : 0
        }
    }

    static func autocorrelation(_ x: [Float], lag: Int) -> Float {
        let m = mean(x)
        var num: Float = 0, den: Float = 1e-9
        for i in 0..<x.count {
            den += (x[i] - m) * (x[i] - m)
            if i + lag < x.count { num += (x[i] - m) * (x[i + lag] - m) }
        }
        return num / den
    }

    static func mean(_ x: [Float]) -> Float { x.isEmpty ? 0 : x.reduce(0, +) / Float(x.count) }
    static func spread(_ x: [Float]) -> Float {
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(max(x.count, 1))).squareRoot()
    }

    /// Triangular filters evenly spaced on the mel scale from 30 Hz to 11 kHz.
    static func makeMelFilters() -> [[(bin: Int, weight: Float)]] {
        func mel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
        func hz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }
        let low = mel(30), high = mel(11000)
        let edges = (0...melBands + 1).map { hz(low + (high - low) * Double($0) / Double(melBands + 1)) }
        let binHz = Double(sampleRate) / Double(frameSize)
        return (0..<melBands).map { b in
            let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2])
            var taps: [(bin: Int, weight: Float)] = []
            for k in Int(l / binHz)...min(Int(r / binHz) + 1, frameSize / 2) {
                let f = Double(k) * binHz
                let w = f < c ? (f - l) / (c - l) : (r - f) / (r - c)
                if w > 0 { taps.append((k, Float(w))) }
            }
            return taps.isEmpty ? [(bin: Int(c / binHz), weight: Float(1))] : taps
        }
    }
}
