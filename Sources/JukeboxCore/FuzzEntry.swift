/// Entry points for the libFuzzer targets in Fuzz/: each parses untrusted bytes and must only ever
/// throw (caught here), never crash, hang or read out of bounds.
public enum FuzzEntry {
    public static func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafetensorsFile(bytes: bytes) else { return }
        for name in file.names {
            _ = try? file.tensor(name)
            if let e = file.entries[name], e.dtype == .i64 || e.dtype == .i32 { _ = try? file.int64s(name) }
        }
    }

    public static func audio(_ bytes: [UInt8]) {
        guard let audio = try? AudioFile.read(bytes: bytes), audio.frames > 0, audio.frames < 1 << 16 else { return }
        _ = Resampler.resample(audio.mono(), from: audio.sampleRate, to: 44100)
    }
}
