import CSndfile
import Foundation

/// A recording read a block at a time as mono at one sample rate: channels mixed, resampled as it goes, each
/// block checked, so a file of any length is read in memory that does not grow with it. The samples equal
/// `AudioFile.readMono` of the whole file.
public final class AudioReader {
    public let path: String
    public let sampleRate: Int
    /// The file's own rate and channel count.
    public let fileRate: Int, channels: Int
    /// The length the header states, in seconds at the file's rate (headers can lie: for progress only).
    public let declaredSeconds: Double
    /// Frames of the file decoded so far.
    public private(set) var framesRead = 0
    private let handle: OpaquePointer
    private let resampler: StreamingResampler
    private var ended = false
    private static let blockFrames = 65536

    public init(_ path: String, sampleRate: Int) throws {
        let (handle, info) = try AudioFile.open(path)
        self.handle = handle
        self.path = path
        self.sampleRate = sampleRate
        (fileRate, channels) = (Int(info.samplerate), Int(info.channels))
        declaredSeconds = Double(max(info.frames, 0)) / Double(info.samplerate)
        resampler = StreamingResampler(from: fileRate, to: sampleRate)
    }

    deinit { sf_close(handle) }

    /// The next samples (mono, at `sampleRate`); nil once the file has ended and every sample was given.
    /// A block may be empty while the resampler waits for more of the file.
    public func next() throws -> [Float]? {
        if ended { return nil }
        var block = [Float](repeating: 0, count: Self.blockFrames * channels)
        let got = Int(block.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, Int64(Self.blockFrames)) })
        if got <= 0 {
            if framesRead == 0 {
                let err = sf_error(handle)
                throw JukeboxError(path, err != 0 ? "cannot decode audio (\(String(cString: sf_strerror(handle))))"
                                                   : "holds no audio frames")
            }
            ended = true
            return resampler.finish()
        }
        block.removeLast(block.count - got * channels)
        try AudioFile.checkSamples(block, channels: channels, rate: fileRate, firstFrame: framesRead, name: path)
        framesRead += got
        return resampler.push(AudioBuffer(samples: block, channels: channels, sampleRate: fileRate).mono())
    }
}
