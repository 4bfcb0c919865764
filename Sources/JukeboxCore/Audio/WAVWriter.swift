import CSndfile
import Foundation

/// A WAV file written a block at a time (audio longer than memory should hold), made visible under its name
/// only when finished: written to a temporary file, synced and renamed, like `AudioFile.writeWAV`.
public final class WAVWriter {
    public let path: String
    public let channels: Int
    private let temporary: String
    private var handle: OpaquePointer?

    public init(_ path: String, channels: Int, sampleRate: Int, format: SampleFormat = .pcm16) throws {
        (self.path, self.channels) = (path, channels)
        temporary = path + ".tmp-\(getpid())"
        var info = SF_INFO()
        info.channels = Int32(channels)
        info.samplerate = Int32(sampleRate)
        info.format = Int32(SF_FORMAT_WAV) | Int32(format == .pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT)
        guard let handle = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw JukeboxError(path, "cannot write (\(String(cString: sf_strerror(nil))))")
        }
        // Clip rather than wrap when converting to 16-bit.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        self.handle = handle
    }

    /// Appends interleaved samples (whole frames).
    public func write(_ samples: [Float]) throws {
        guard let handle else { throw JukeboxError(path, "already finished") }
        let frames = samples.count / channels
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, Int64(frames)) }
        guard written == frames else {
            abandon()
            throw JukeboxError(path, "write failed (\(String(cString: strerror(errno))))")
        }
    }

    /// Closes, syncs and renames the file into place.
    public func finish() throws {
        guard let handle else { throw JukeboxError(path, "already finished") }
        sf_write_sync(handle)
        let closed = sf_close(handle) == 0
        self.handle = nil
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard closed, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw JukeboxError(path, "write failed (\(String(cString: strerror(errno))))")
        }
    }

    private func abandon() {
        if let handle { sf_close(handle) }
        handle = nil
        unlink(temporary)
    }

    deinit { abandon() }
}
