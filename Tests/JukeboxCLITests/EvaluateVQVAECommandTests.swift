import Foundation
import XCTest
@testable import JukeboxCore

/// `jukebox eval vqvae` on a folder of recordings, as a user measures the codec on their own music.
final class EvaluateVQVAECommandTests: XCTestCase {
    func testAFolderOfRecordingsGetsEveryFigureAndAnEmptyOneIsNamed() throws {
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "--seed", "2", "-o", dir + "/set"]).status, 0)
        let rate = try VQVAE(folder: dir + "/set/vqvae").sampleRate
        try FileManager.default.createDirectory(atPath: dir + "/music/band", withIntermediateDirectories: true)
        for (name, pitch) in [("band/a.wav", 220.0), ("b.wav", 330.0)] {
            let samples = (0..<(rate / 2)).map { i in Float(0.3 * sin(2 * .pi * pitch * Double(i) / Double(rate))
                                                         + 0.05 * sin(2 * .pi * pitch * 23 * Double(i) / Double(rate))) }
            try AudioFile.writeWAV(dir + "/music/" + name, samples: samples, sampleRate: rate)
        }
        let r = try CLI.run(["eval", "vqvae", "--vqvae", dir + "/set/vqvae", "--data", dir + "/music", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let levels = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], r.stdout)
        XCTAssertEqual(levels.count, 3)
        for level in levels {
            for key in ["snr_db", "spectral_convergence", "high_band_flatness", "clean_high_band_flatness"] {
                XCTAssertNotNil(level[key] as? Double, "\(key) in \(level)")
            }
        }
        let table = try CLI.run(["eval", "vqvae", "--vqvae", dir + "/set/vqvae", "--data", dir + "/music"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("4-22 kHz flatness"), table.stdout)
        XCTAssertTrue(table.stderr.contains("2 songs") || table.stdout.split(separator: "\n").count == 4, table.stderr)

        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        assertCleanFailure(try CLI.run(["eval", "vqvae", "--vqvae", dir + "/set/vqvae", "--data", dir + "/empty"]), naming: dir + "/empty")
    }
}
