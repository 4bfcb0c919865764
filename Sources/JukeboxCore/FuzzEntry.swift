import Foundation

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

    /// A session.json as a reopened session reads it: version, migration, typed document, validation.
    public static func session(_ bytes: [UInt8]) {
        guard let document = try? SessionFolder.decodeDocument(Data(bytes), source: "<fuzz>") else { return }
        _ = try? SessionFolder.encodeDocument(document)
    }

    /// A label id list (`name;id` lines) and the lookups sampling makes in it.
    public static func labels(_ bytes: [UInt8]) {
        guard let text = String(bytes: bytes, encoding: .utf8),
              let list = try? LabelNameList(text: text, source: "<fuzz>") else { return }
        let vocabulary = LabelVocabulary(artists: list, genres: list, v3: bytes.count % 2 == 0)
        for entry in list.entries.prefix(4) {
            _ = vocabulary.artistID(entry.name)
            _ = try? vocabulary.genreIDs(entry.name, maxBowGenreSize: 5)
            _ = vocabulary.suggestArtists(String(entry.name.reversed()))
        }
    }

    public static func audio(_ bytes: [UInt8]) {
        guard let audio = try? AudioFile.read(bytes: bytes), audio.frames > 0, audio.frames < 1 << 16 else { return }
        _ = Resampler.resample(audio.mono(), from: audio.sampleRate, to: 44100)
    }
}
