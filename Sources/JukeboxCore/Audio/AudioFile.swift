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
    /// The file's audio; with `maxSeconds`, only its first seconds are decoded (a prime of 4 s from an
    /// hour-long recording reads 4 s, not the hour).
    public static func read(_ path: String, maxSeconds: Double? = nil) throws -> AudioBuffer {
        guard FileManager.default.fileExists(atPath: path) else { throw JukeboxError(path, "no such file") }
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            throw JukeboxError(path, "not readable as audio (\(String(cString: sf_strerror(nil))))")
        }
        defer { sf_close(handle) }
        return try readAll(handle, info: info, name: path, maxSeconds: maxSeconds)
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
        return try withExtendedLifetime(cursor) { try readAll(handle, info: info, name: name) }
    }

    private static func readAll(_ handle: OpaquePointer, info: SF_INFO, name: String, maxSeconds: Double? = nil) throws -> AudioBuffer {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        guard channels > 0, channels <= 64 else { throw JukeboxError(name, "unsupported channel count \(channels)") }
        // A header can claim any rate: outside what recorders use, resampling to the model's rate would make
        // thousands of samples of each one (a 1 Hz header asked for 38 GB).
        guard AudioFile.plausibleSampleRates.contains(rate) else {
            throw JukeboxError(name, "sample rate \(rate) Hz is outside \(AudioFile.plausibleSampleRates.lowerBound)–"
                               + "\(AudioFile.plausibleSampleRates.upperBound) Hz (a damaged or mislabelled header?)")
        }
        // Frame counts in headers can lie; read in blocks until the decoder stops (or past what was asked for).
        let block = 65536
        let wanted = maxSeconds.map { Int(min(max($0, 0), 1e7) * Double(rate)) } ?? Int.max
        var samples: [Float] = []
        var chunk = [Float](repeating: 0, count: block * channels)
        while samples.count / channels < wanted {
            let frames = min(block, wanted - samples.count / channels)
            let got = chunk.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, Int64(frames)) }
            if got <= 0 { break }
            samples.append(contentsOf: chunk[0..<(Int(got) * channels)])
            if samples.count > 4_000_000_000 / 4 { throw JukeboxError(name, "audio too long") }
        }
        let err = sf_error(handle)
        if err != 0 && samples.isEmpty {
            throw JukeboxError(name, "cannot decode audio (\(String(cString: sf_strerror(handle))))")
        }
        // Float files can hold anything: a value that is not finite, or far past full scale, is damage, not sound.
        if let bad = samples.firstIndex(where: { !$0.isFinite || abs($0) > AudioFile.largestSampleValue }) {
            throw JukeboxError(name, String(format: "holds the sample value %g at %.3f s (not audio: damaged?)",
                                            Double(samples[bad]), Double(bad / channels) / Double(rate)))
        }
        return AudioBuffer(samples: samples, channels: channels, sampleRate: rate)
    }

    /// Reads any audio file as mono at `sampleRate`, mixing channels and resampling as needed. With
    /// `maxSeconds`, the first seconds only: a second more is decoded than kept, so the resampling filter sees
    /// past the cut and what is kept equals the same stretch of the whole file resampled.
    public static func readMono(_ path: String, sampleRate: Int, maxSeconds: Double? = nil) throws -> [Float] {
        let audio = try read(path, maxSeconds: maxSeconds.map { $0 + 1 })
        guard audio.frames > 0 else { throw JukeboxError(path, "holds no audio frames") }
        let mono = Resampler.resample(audio.mono(), from: audio.sampleRate, to: sampleRate)
        guard let maxSeconds else { return mono }
        return Array(mono.prefix(Int(maxSeconds * Double(sampleRate))))
    }

    /// Writes a WAV file atomically (temp file, fsync, rename).
    public static func writeWAV(_ path: String, samples: [Float], channels: Int = 1, sampleRate: Int,
                                format: SampleFormat = .pcm16) throws {
        let tmp = path + ".tmp-\(getpid())"
        var info = SF_INFO()
        info.channels = Int32(channels)
        info.samplerate = Int32(sampleRate)
        info.format = Int32(SF_FORMAT_WAV) | Int32(format == .pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT)
        guard let handle = sf_open(tmp, Int32(SFM_WRITE), &info) else {
            throw JukeboxError(path, "cannot write (\(String(cString: sf_strerror(nil))))")
        }
        // Clip rather than wrap when converting to 16-bit.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let frames = samples.count / max(channels, 1)
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, Int64(frames)) }
        sf_write_sync(handle)
        let closed = sf_close(handle) == 0
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard written == frames, closed, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw JukeboxError(path, "write failed (\(String(cString: strerror(errno))))")
        }
    }
}

private final class MemoryCursor {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}
