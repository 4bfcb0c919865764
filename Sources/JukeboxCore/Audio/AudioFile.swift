import CSndfile
import Foundation

/// Decoded audio: interleaved float samples in [-1, 1].
public struct AudioBuffer: Sendable {
    public var samples: [Float]
    public var channels: Int
    public var sampleRate: Int
    public var frames: Int { channels == 0 ? 0 : samples.count / channels }
    public var seconds: Double { Double(frames) / Double(max(sampleRate, 1)) }

    public init(samples: [Float], channels: Int, sampleRate: Int) {
        self.samples = samples
        self.channels = channels
        self.sampleRate = sampleRate
    }

    /// The mean of the channels, as the reference mixes stereo to mono.
    public func mono() -> [Float] {
        if channels == 1 { return samples }
        var out = [Float](repeating: 0, count: frames)
        let inv = 1 / Float(channels)
        samples.withUnsafeBufferPointer { s in
            for f in 0..<frames {
                var acc: Float = 0
                for c in 0..<channels { acc += s[f * channels + c] }
                out[f] = acc * inv
            }
        }
        return out
    }
}

public enum SampleFormat: Sendable {
    case pcm16, float32
}

/// Reading and writing audio files through libsndfile: any format and rate it reads is accepted.
public enum AudioFile {
    /// Sample rates a recording may have (telephone speech to 16× oversampled studio masters).
    public static let plausibleSampleRates = 4000...768_000
    /// The largest magnitude taken as sound (60 dB over full scale); beyond it a float file is damaged.
    public static let largestSampleValue: Float = 1000
    /// The file's audio, all of it (a long recording is read a block at a time with AudioReader instead).
    public static func read(_ path: String) throws -> AudioBuffer {
        let (handle, info) = try open(path)
        defer { sf_close(handle) }
        return try readAll(handle, info: info, name: path)
    }

    /// The file opened for reading with its header checked; the caller closes the handle.
    static func open(_ path: String) throws -> (handle: OpaquePointer, info: SF_INFO) {
        guard FileManager.default.fileExists(atPath: path) else { throw JukeboxError(path, "no such file") }
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            throw JukeboxError(path, "not readable as audio (\(String(cString: sf_strerror(nil))))")
        }
        do { try checkHeader(info, name: path) } catch { sf_close(handle); throw error }
        return (handle, info)
    }

    /// Reads audio from bytes in memory (libsndfile virtual IO); the fuzz entry point's path.
    public static func read(bytes: [UInt8], name: String = "<memory>") throws -> AudioBuffer {
        let cursor = MemoryCursor(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { Int64(Unmanaged<MemoryCursor>.fromOpaque($0!).takeUnretainedValue().bytes.count) },
            seek: { offset, whence, user in
                let c = Unmanaged<MemoryCursor>.fromOpaque(user!).takeUnretainedValue()
                let base = whence == SEEK_CUR ? c.position : whence == SEEK_END ? c.bytes.count : 0
                let (target, overflow) = Int(base).addingReportingOverflow(Int(offset))
                if overflow || target < 0 { return -1 }
                c.position = target
                return Int64(target)
            },
            read: { ptr, count, user in
                let c = Unmanaged<MemoryCursor>.fromOpaque(user!).takeUnretainedValue()
                guard let ptr, count > 0, c.position < c.bytes.count else { return 0 }
                let n = min(Int(count), c.bytes.count - c.position)
                c.bytes.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress! + c.position, byteCount: n) }
                c.position += n
                return Int64(n)
            },
            write: { _, _, _ in 0 },
            tell: { Int64(Unmanaged<MemoryCursor>.fromOpaque($0!).takeUnretainedValue().position) })
        var info = SF_INFO()
        let user = Unmanaged.passUnretained(cursor).toOpaque()
        guard let handle = sf_open_virtual(&io, Int32(SFM_READ), &info, user) else {
            throw JukeboxError(name, "not readable as audio (\(String(cString: sf_strerror(nil))))")
        }
        defer { sf_close(handle) }
        try checkHeader(info, name: name)
        return try withExtendedLifetime(cursor) { try readAll(handle, info: info, name: name) }
    }

    /// Every frame of an opened file whose header was checked.
    private static func readAll(_ handle: OpaquePointer, info: SF_INFO, name: String) throws -> AudioBuffer {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        // Frame counts in headers can lie; read in blocks until the decoder stops.
        let block = 65536
        var samples: [Float] = []
        var chunk = [Float](repeating: 0, count: block * channels)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, Int64(block)) }
            if got <= 0 { break }
            samples.append(contentsOf: chunk[0..<(Int(got) * channels)])
            if samples.count > 4_000_000_000 / 4 { throw JukeboxError(name, "audio too long") }
        }
        let err = sf_error(handle)
        if err != 0 && samples.isEmpty {
            throw JukeboxError(name, "cannot decode audio (\(String(cString: sf_strerror(handle))))")
        }
        try checkSamples(samples, channels: channels, rate: rate, firstFrame: 0, name: name)
        return AudioBuffer(samples: samples, channels: channels, sampleRate: rate)
    }

    /// A header's channel count and rate, before anything is allocated from them.
    static func checkHeader(_ info: SF_INFO, name: String) throws {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        guard channels > 0, channels <= 64 else { throw JukeboxError(name, "unsupported channel count \(channels)") }
        // A header can claim any rate: outside what recorders use, resampling to the model's rate would make
        // thousands of samples of each one (a 1 Hz header asked for 38 GB).
        guard AudioFile.plausibleSampleRates.contains(rate) else {
            throw JukeboxError(name, "sample rate \(rate) Hz is outside \(AudioFile.plausibleSampleRates.lowerBound)–"
                               + "\(AudioFile.plausibleSampleRates.upperBound) Hz (a damaged or mislabelled header?)")
        }
    }

    /// Float files can hold anything: a value that is not finite, or far past full scale, is damage, not sound.
    static func checkSamples(_ samples: [Float], channels: Int, rate: Int, firstFrame: Int, name: String) throws {
        if let bad = samples.firstIndex(where: { !$0.isFinite || abs($0) > AudioFile.largestSampleValue }) {
            throw JukeboxError(name, String(format: "holds the sample value %g at %.3f s (not audio: damaged?)",
                                            Double(samples[bad]), Double(firstFrame + bad / channels) / Double(rate)))
        }
    }

    /// Reads any audio file as mono at `sampleRate`, mixing channels and resampling as needed. With
    /// `maxSeconds`, the first seconds only: the file is decoded a block at a time until they are complete (a
    /// prime of 4 s from an hour-long recording reads 4 s), and they equal that stretch of the whole file.
    /// `centred` takes those seconds from the middle of the file instead (by the length its header states;
    /// all of a shorter file), dropping what comes before as it streams.
    public static func readMono(_ path: String, sampleRate: Int, maxSeconds: Double? = nil, centred: Bool = false) throws -> [Float] {
        let reader = try AudioReader(path, sampleRate: sampleRate)
        let wanted = maxSeconds.map { Int(min(max($0, 0), 1e7) * Double(sampleRate)) } ?? Int.max
        var skip = 0
        if centred, let maxSeconds { skip = max(Int((reader.declaredSeconds - maxSeconds) / 2 * Double(sampleRate)), 0) }
        var mono: [Float] = []
        while mono.count < wanted, let block = try reader.next() {
            let from = min(skip, block.count)
            skip -= from
            mono.append(contentsOf: block[from...])
            if mono.count > 4_000_000_000 / 4 { throw JukeboxError(path, "audio too long") }
        }
        return wanted < mono.count ? Array(mono.prefix(wanted)) : mono
    }

    /// Writes a WAV file atomically (temp file, fsync, rename).
    public static func writeWAV(_ path: String, samples: [Float], channels: Int = 1, sampleRate: Int,
                                format: SampleFormat = .pcm16) throws {
        let writer = try WAVWriter(path, channels: channels, sampleRate: sampleRate, format: format)
        try writer.write(samples)
        try writer.finish()
    }
}

private final class MemoryCursor {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}
