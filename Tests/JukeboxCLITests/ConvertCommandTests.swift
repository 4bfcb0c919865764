import Foundation
import JukeboxCore
import XCTest

final class ConvertCommandTests: XCTestCase {
    /// Both published formats convert to the reference's weights, and the result decodes like the reference.
    func testLegacyAndZipCheckpointsConvertToTheReferenceWeights() throws {
        let vqvae = try CLI.fixture("vqvae")
        let reference = try SafetensorsFile(path: vqvae + "/weights.safetensors")
        let dir = temporaryFolder(self)
        for file in ["checkpoint_legacy.pth.tar", "checkpoint_zip.pth.tar"] {
            guard FileManager.default.fileExists(atPath: vqvae + "/" + file) else { continue }
            let out = dir + "/" + file
            let r = try CLI.run(["convert", vqvae + "/" + file, "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            let converted = try SafetensorsFile(path: out + "/weights.safetensors")
            XCTAssertEqual(Set(converted.names), Set(reference.names), file)
            for name in reference.names {
                XCTAssertEqual(try converted.tensor(name).toArray(), try reference.tensor(name).toArray(), "\(file) \(name)")
            }
            let info = try CLI.run(["info", out, "--json"])
            XCTAssertEqual(info.status, 0, info.stderr)
            XCTAssertTrue(info.stdout.contains("\"vqvae\""), info.stdout)
        }
    }

    func testFp16PriorWithModulePrefixConvertsAndCarriesItsLabels() throws {
        let folder = try CLI.fixture("prior_top_5b_lyrics")
        let file = folder + "/checkpoint_fp16_legacy.pth.tar"
        guard FileManager.default.fileExists(atPath: file) else { throw XCTSkip("no fp16 checkpoint in these fixtures") }
        let labels = CLI.shared.appendingPathComponent("jukebox-labels").path
        let out = temporaryFolder(self) + "/prior"
        let r = try CLI.run(["convert", file, "-o", out, "--labels", labels])
        XCTAssertEqual(r.status, 0, r.stderr)
        let converted = try SafetensorsFile(path: out + "/weights.safetensors")
        XCTAssertFalse(converted.names.contains { $0.hasPrefix("module.") })
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + LabelVocabulary.artistsFileName))
        // The converted prior scores the fixture's codes (fp16-rounded weights: close, not identical).
        let score = try CLI.run(["score", "--prior", out, folder + "/io.safetensors"])
        XCTAssertEqual(score.status, 0, score.stderr)
    }

    /// A pickle that names os.system is refused before anything runs, with the global named.
    func testPickleNamingAForeignGlobalIsRefused() throws {
        let dir = temporaryFolder(self)
        let marker = dir + "/pwned"
        // torch's legacy layout: magic-number, protocol and sys_info pickles, then the main pickle.
        let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
        var bytes: [UInt8] = [0x80, 0x02, 0x8a, 0x0a] + magic + [0x2e]  // LONG1 0x1950a86a20f9469cfc6c
        bytes += [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]  // BININT2 1001
        bytes += [0x80, 0x02, 0x7d, 0x2e]  // EMPTY_DICT
        bytes += [0x80, 0x02]  // PROTO 2
        bytes += Array("cos\nsystem\n".utf8)  // GLOBAL os.system
        let command = "touch \(marker)"
        bytes += [0x58] + withUnsafeBytes(of: UInt32(command.utf8.count).littleEndian, Array.init) + Array(command.utf8)
        bytes += [0x85, 0x52, 0x2E]  // TUPLE1, REDUCE, STOP
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/evil.pth.tar"))
        let r = try CLI.run(["convert", dir + "/evil.pth.tar", "-o", dir + "/out"])
        assertCleanFailure(r, naming: "os.system")
        XCTAssertTrue(r.stderr.contains(dir + "/evil.pth.tar"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the pickle must never run code")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"), "no half-written output")
    }

    func testTruncatedAndCorruptCheckpointsFailCleanly() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        for file in ["checkpoint_legacy.pth.tar", "checkpoint_zip.pth.tar"] {
            guard let data = FileManager.default.contents(atPath: vqvae + "/" + file) else { continue }
            for (i, cut) in [10, data.count / 3, data.count - 7].enumerated() {
                let path = dir + "/cut\(i)-" + file
                try data.prefix(cut).write(to: URL(fileURLWithPath: path))
                assertCleanFailure(try CLI.run(["convert", path, "-o", dir + "/out"]), naming: path)
            }
        }
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: dir + "/text.pth.tar"))
        assertCleanFailure(try CLI.run(["convert", dir + "/text.pth.tar", "-o", dir + "/out"]), naming: dir + "/text.pth.tar")
        assertCleanFailure(try CLI.run(["convert", dir + "/absent.pth.tar", "-o", dir + "/out"]), naming: dir + "/absent.pth.tar")
        assertCleanFailure(try CLI.run(["convert", vqvae + "/checkpoint_legacy.pth.tar", "-o", dir + "/o", "--preset", "prior_9z"]),
                           naming: "prior_9z")
    }
}
