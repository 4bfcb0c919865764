import Foundation

/// Encodes a long recording (a synthetic one written to a temporary folder: stereo at 48 kHz, so reading,
/// mixing and resampling are part of it) through the windowed encoder, and reports the time and the process's
/// peak resident memory while encoding, beside what the decoded audio alone would take in memory.
public enum EncodeBenchmark {
    public struct Result: Sendable {
        public let audioSeconds: Double
        public let wallSeconds: Double
        public var realtimeFactor: Double { audioSeconds / wallSeconds }
        /// Resident memory with the model loaded, before encoding, and the peak while encoding.
        public let residentBeforeBytes: Int
        public let peakResidentBytes: Int
        /// The whole recording as float32 mono at the model's rate: what reading it at once would hold
        /// before any encoder activation.
        public let wholeAudioBytes: Int
        public let codes: [Int]

        public var json: [String: Any] {
            ["audio_seconds": audioSeconds, "wall_seconds": wallSeconds, "realtime_factor": realtimeFactor,
             "resident_before_bytes": residentBeforeBytes, "peak_resident_bytes": peakResidentBytes,
             "whole_audio_bytes": wholeAudioBytes, "codes_per_level": codes]
        }

        public var description: String {
            String(format: "%.1f min of audio encoded in %.1f s (%.1fx real time); resident %.0f MB with the model loaded, "
                   + "peak %.0f MB while encoding (the audio alone, read whole, is %.0f MB)",
                   audioSeconds / 60, wallSeconds, realtimeFactor, Double(residentBeforeBytes) / 1e6,
                   Double(peakResidentBytes) / 1e6, Double(wholeAudioBytes) / 1e6)
        }
    }

    /// The 5b VQ-VAE's shapes with seeded random weights, for runs without a model folder.
    public static func published5b() throws -> VQVAE {
        try VQVAE.random(Hyperparameters(VQVAEHyperparameters.published5b, source: "5b vqvae (random weights)"), seed: 0)
    }

    public static func run(model: VQVAE, minutes: Double, folder: String,
                           progress: (Double) -> Void = { _ in }) throws -> Result {
        let path = folder + "/long-recording.wav"
        try writeRecording(path, seconds: minutes * 60)
        defer { unlink(path) }
        let reader = try AudioReader(path, sampleRate: model.sampleRate)
        let before = MemoryInfo.residentBytes
        MemoryInfo.resetPeak()
        let start = DispatchTime.now().uptimeNanoseconds
        let (samples, codes) = try model.encode(reader: reader) { progress(Double($0) / Double(model.sampleRate)) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(audioSeconds: Double(samples) / Double(model.sampleRate), wallSeconds: wall,
                      residentBeforeBytes: before, peakResidentBytes: MemoryInfo.peakResidentBytes,
                      wholeAudioBytes: samples * 4, codes: codes.map(\.t))
    }

    /// A chord with a slow tremolo and a little noise, in stereo at 48 kHz, written a second at a time.
    static func writeRecording(_ path: String, seconds: Double) throws {
        let rate = 48000
        let writer = try WAVWriter(path, channels: 2, sampleRate: rate)
        var rng = SeededGenerator(seed: 1)
        var frame = 0
        let total = Int(seconds * Double(rate))
        while frame < total {
            let n = min(rate, total - frame)
            var block = [Float](repeating: 0, count: 2 * n)
            for i in 0..<n {
                let t = Double(frame + i) / Double(rate)
                let chord = sin(2 * .pi * 220 * t) + 0.5 * sin(2 * .pi * 277.2 * t) + 0.4 * sin(2 * .pi * 329.6 * t)
                let level = 0.2 * (1 + 0.5 * sin(2 * .pi * 0.25 * t))
                let noise = 0.02 * (Double(rng.nextUnitFloat()) - 0.5)
                block[2 * i] = Float(level * chord + noise)
                block[2 * i + 1] = Float(level * chord - noise)
            }
            try writer.write(block)
            frame += n
        }
        try writer.finish()
    }
}
