import Foundation
import JukeboxCore
import XCTest

/// `eval continuation` on a folder of the user's own recordings (no corpus): labelled as an import labels
/// them, continued by the bundled set, their beat and sound measured beside the recording's own and an
/// unprimed sample's.
final class ContinuationOfRecordingsTests: XCTestCase {
    func testAFolderOfRecordingsIsContinuedAndMeasured() throws {
        let bundled = try BundledModel.locate(environment: [:], executable: CLI.executable)
        let dir = temporaryFolder(self), src = dir + "/recordings"
        try FileManager.default.createDirectory(atPath: src + "/Ada Loop", withIntermediateDirectories: true)
        try AudioFile.writeWAV(src + "/Ada Loop/steady.wav", samples: DatasetImportCommandTests.clicks(seconds: 9, rate: 48000, channels: 2, bpm: 100),
                               channels: 2, sampleRate: 48000)
        try AudioFile.writeWAV(src + "/Ada Loop/short.wav", samples: DatasetImportCommandTests.clicks(seconds: 3, rate: 44100, channels: 1, bpm: 100),
                               sampleRate: 44100)
        try Data("no audio".utf8).write(to: URL(fileURLWithPath: src + "/Ada Loop/broken.ogg"))
        let before = try DatasetImportCommandTests.snapshot(src)
        let command = ["eval", "continuation", "--data", src, "--genre", "rock", "--model", bundled, "--prime-seconds", "2",
                       "--seconds", "8", "--stretch", "3", "--prime-guidance", "2", "--sessions-out", dir + "/continued", "--json"]
        let r = try CLI.run(command)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped Ada Loop/broken.ogg"), r.stderr)
        XCTAssertEqual(try DatasetImportCommandTests.snapshot(src), before, "the recordings are only read")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let songs = try XCTUnwrap(report["songs"] as? [[String: Any]])
        // The 3 s file cannot cover an 8 s session; the other is continued with its estimated tempo.
        XCTAssertEqual(songs.compactMap { $0["id"] as? String }, ["Ada Loop-steady"])
        let song = try XCTUnwrap(songs.first)
        XCTAssertEqual(song["genre"] as? String, "rock")
        XCTAssertTrue(AudioFeatures.tempo(song["bpm"] as? Double ?? 0, matches: 100), "\(song)")
        // The strengths it was sampled with, as its session recorded them: the one asked for, the set's others.
        let guidance = try XCTUnwrap(song["guidance"] as? [String: Double], "\(song)")
        XCTAssertEqual(guidance["prime"], 2)
        XCTAssertEqual(guidance["genre"], try XCTUnwrap(ModelSet.load(bundled).sampling).genreGuidance)
        XCTAssertNotNil(guidance["bar"])
        let sound = try XCTUnwrap(song["sound"] as? [String: Any])
        // A click track measures as itself over both its parts: its balance barely moves, its loudness neither.
        XCTAssertLessThan(sound["song_balance_distance_db"] as? Double ?? 99, 1.5, "\(sound)")
        XCTAssertEqual(sound["song_loudness_db"] as? Double ?? 0, sound["song_prime_loudness_db"] as? Double ?? 99, accuracy: 1)
        for key in ["continuation_balance_distance_db", "unprimed_balance_distance_db"] {
            XCTAssertTrue((0..<60).contains(sound[key] as? Double ?? -1), "\(key): \(sound)")
        }
        let session = try SessionFolder.open(dir + "/continued/Ada Loop-steady").1
        XCTAssertEqual(session.prompt.mode, .primed)
        XCTAssertEqual(session.prompt.artist, "Ada Loop")
        XCTAssertEqual(try SessionFolder.open(dir + "/continued/Ada Loop-steady-unprimed").1.prompt.mode, .ancestral)
        // A second run would overwrite the sessions: refused before sampling.
        assertCleanFailure(try CLI.run(command), naming: dir + "/continued/Ada Loop-steady")
    }
}
