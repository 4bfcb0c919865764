import Foundation
import JukeboxCore
import JukeboxTestSupport
import XCTest

/// `jukebox model fetch` and `model verify` against stand-ins of the published files (PublishedLayout)
/// served over HTTP on loopback by a server the test starts, stops and makes misbehave.
final class ModelFetchCommandTests: XCTestCase {
    var root = "", work = ""
    var server: LoopbackHTTPServer!

    override func setUpWithError() throws {
        let dir = temporaryFolder(self)
        root = dir + "/published"
        work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try PublishedLayout.write(model: "1b_lyrics", into: root)
        server = LoopbackHTTPServer(root: root)
        try server.start()
    }

    override func tearDown() { server?.stop() }

    func fetch(_ set: String, _ extra: [String] = []) throws -> CLIResult {
        try CLI.run(["model", "fetch", "1b_lyrics", "-o", set, "--base-url", server.baseURL, "--labels-url", server.baseURL] + extra)
    }

    /// The error is the last line of stderr (progress lines come before it), exit 1, no signal.
    func assertFetchFailure(_ r: CLIResult, naming subject: String, saying words: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("jukebox: ") && last.contains(subject) && last.contains(words),
                      "expected one line naming \(subject) and saying \(words): \(r.stderr)", file: file, line: line)
    }

    func served(_ path: String) throws -> Data { try XCTUnwrap(FileManager.default.contents(atPath: root + "/" + path)) }

    func testAFreshFetchGivesASetThatSamplesAndVerifies() throws {
        let set = work + "/jukebox-1b"
        let r = try fetch(set)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1b_lyrics"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: set + ".partial"), "staging removed once the set is in place")

        // The record names every URL with the size and digest of what the server holds.
        let record = try FetchRecord.load(set: set)
        XCTAssertEqual(record.model, "1b_lyrics")
        XCTAssertEqual(record.sources.count, PublishedModel.labelPaths.count + 4)
        for path in PublishedModel.named("1b_lyrics")!.members.map(\.path) + PublishedModel.labelPaths {
            let source = try XCTUnwrap(record.sources.first { $0.url == server.baseURL + path }, path)
            let bytes = try served(path)
            XCTAssertEqual(source.bytes, Int64(bytes.count), path)
            XCTAssertEqual(source.sha256, SHA256.hex(of: bytes), path)
        }
        XCTAssertTrue(record.files.contains { $0.path == "prior_level_2/weights.safetensors" })

        // The set is one the rest of the tool takes at once: info, and sampling through all three levels.
        let info = try CLI.run(["info", set])
        XCTAssertEqual(info.status, 0, info.stderr)
        for level in 0...2 {
            XCTAssertEqual(try ModelConfig.load(folder: set + "/prior_level_\(level)").weightFormat, .f16, "fp16 weights stay 16-bit")
        }
        let out = work + "/song"
        let sample = try CLI.run(["sample", "--model", set, "--genre", "rock", "--artist", "Nova Lark", "--lyrics", "la la",
                                  "--seconds", "1", "-o", out])
        XCTAssertEqual(sample.status, 0, sample.stderr)
        let wavs = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".wav") }
        XCTAssertFalse(wavs.isEmpty, "a WAV in \(out)")

        // verify: intact, then a damaged file is named; a second fetch refuses the damaged set too.
        let verify = try CLI.run(["model", "verify", set])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        let again = try fetch(set)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already fetched"), again.stdout)
        let weights = set + "/prior_level_1/weights.safetensors"
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: weights))
        handle.seek(toFileOffset: 4000)
        handle.write(Data([0x5A, 0xA5]))
        handle.closeFile()
        let damaged = try CLI.run(["model", "verify", set])
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(damaged.stderr.contains(weights) && damaged.stderr.contains("damaged"), damaged.stderr)
        assertFetchFailure(try fetch(set), naming: weights, saying: "damaged")
    }

    func testACutDownloadResumesWhereItStoppedAndEndsWithTheSameBytes() throws {
        let top = "jukebox/models/1b_lyrics/prior_level_2.pth.tar"
        let whole = try served(top)
        let cut = whole.count / 2
        server.inject(.cutAt(cut), path: "/" + top)
        let set = work + "/set"
        let first = try fetch(set)
        assertFetchFailure(first, naming: server.baseURL + top, saying: "run again to resume")
        XCTAssertFalse(FileManager.default.fileExists(atPath: set), "no half-made set")
        let part = ModelFetcher.stagingFolder(for: set) + "/downloads/" + top + ".part"
        XCTAssertEqual(Download.fileSize(part), Int64(cut), "the bytes that arrived are kept")

        // A finished download damaged on disk meanwhile is told by its digest and fetched again.
        let damaged = PublishedModel.labelPaths[0]
        try Data("damaged;0\n".utf8).write(to: URL(fileURLWithPath: ModelFetcher.stagingFolder(for: set) + "/downloads/" + damaged))

        let second = try fetch(set)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("damaged since it was downloaded"), second.stderr)
        let requests = server.requests
        XCTAssertEqual(requests.filter { $0.path == "/" + top }.map(\.rangeStart), [0, cut], "resumed with a Range request")
        for label in PublishedModel.labelPaths {
            XCTAssertEqual(requests.filter { $0.path == "/" + label }.count, label == damaged ? 2 : 1, "\(label): finished files are not fetched twice")
        }
        let source = try XCTUnwrap(try FetchRecord.load(set: set).sources.first { $0.url == server.baseURL + top })
        XCTAssertEqual(source.sha256, SHA256.hex(of: whole), "the resumed file is the served file, byte for byte")
    }

    func testCtrlCKeepsWhatArrivedAndTheNextRunResumes() throws {
        let top = "jukebox/models/1b_lyrics/prior_level_2.pth.tar"
        let whole = try served(top)
        server.inject(.stallAt(whole.count / 3), path: "/" + top)
        let set = work + "/set"
        let child = try Subprocess(CLI.executable, ["model", "fetch", "1b_lyrics", "-o", set,
                                                    "--base-url", server.baseURL, "--labels-url", server.baseURL])
        let part = ModelFetcher.stagingFolder(for: set) + "/downloads/" + top + ".part"
        let deadline = Date().addingTimeInterval(60)
        while (Download.fileSize(part) ?? 0) < Int64(whole.count / 3), Date() < deadline { usleep(20_000) }
        kill(child.pid, SIGINT)
        let r = child.finish()
        assertFetchFailure(r, naming: server.baseURL + top, saying: "interrupted")
        XCTAssertEqual(Download.fileSize(part), Int64(whole.count / 3))

        let resumed = try fetch(set)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(server.requests.filter { $0.path == "/" + top }.map(\.rangeStart), [0, whole.count / 3])
    }

    func testShortCorruptAndMissingFilesAreRefusedNamingThem() throws {
        let set = work + "/set"
        let upsampler = "jukebox/models/5b/prior_level_1.pth.tar"
        // A server that promises more than it sends.
        server.inject(.overstate(extra: 1000), path: "/" + upsampler)
        assertFetchFailure(try fetch(set), naming: server.baseURL + upsampler, saying: "run again to resume")
        // A 404.
        server.inject(.notFound, path: "/" + upsampler)
        assertFetchFailure(try fetch(set), naming: server.baseURL + upsampler, saying: "404")
        // Bytes that arrive whole but are no checkpoint: refused, named, and dropped so a rerun fetches them anew.
        let other = "jukebox/models/5b/prior_level_0.pth.tar"
        let good = try served(other)
        try Data(repeating: 0x42, count: good.count).write(to: URL(fileURLWithPath: root + "/" + other))
        assertFetchFailure(try fetch(set), naming: server.baseURL + other, saying: "not a usable checkpoint")
        XCTAssertNil(Download.fileSize(ModelFetcher.stagingFolder(for: set) + "/downloads/" + other))
        XCTAssertFalse(FileManager.default.fileExists(atPath: set))
        // Served correctly now: the rerun finishes, fetching only what it lacks.
        try good.write(to: URL(fileURLWithPath: root + "/" + other))
        let before = server.requests.count
        let r = try fetch(set)
        XCTAssertEqual(r.status, 0, r.stderr)
        let later = server.requests.dropFirst(before).map(\.path)
        XCTAssertEqual(later, ["/" + other], "only the dropped file is fetched again")
    }

    func testAnUnreachableServerIsACleanErrorAndLeavesNoSet() throws {
        let port = server.port
        server.stop()
        let set = work + "/set"
        let base = "http://127.0.0.1:\(port)/"
        let r = try CLI.run(["model", "fetch", "1b_lyrics", "-o", set, "--base-url", base, "--labels-url", base])
        assertFetchFailure(r, naming: base + "jukebox/data/ids/v2_artist_ids.txt", saying: "onnect")
        XCTAssertFalse(FileManager.default.fileExists(atPath: set))
        XCTAssertFalse(FileManager.default.fileExists(atPath: set + ".partial"), "nothing fetched, nothing kept")
        // Unknown names and formats are one line before anything is fetched.
        let unknown = try CLI.run(["model", "fetch", "7b", "-o", set])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("7b") && unknown.stderr.contains("5b_lyrics"), unknown.stderr)
        let format = try CLI.run(["model", "fetch", "1b_lyrics", "-o", set, "--format", "q3"])
        XCTAssertTrue(format.status == 1 && format.stderr.contains("--format"), format.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: set + ".partial"))
    }

    /// --format writes the priors straight in a compact format (from the 16-bit conversion, no float32 copy),
    /// from a local folder given through the environment.
    func testFetchStraightIntoQ8FromALocalMirror() throws {
        server.stop()
        let set = work + "/q8"
        let r = try CLI.run(["model", "fetch", "1b_lyrics", "-o", set, "--format", "q8"],
                            environment: ["JUKEBOX_BASE_URL": root, "JUKEBOX_LABELS_URL": "file://" + root])
        XCTAssertEqual(r.status, 0, r.stderr)
        for level in 0...2 {
            let config = try ModelConfig.load(folder: set + "/prior_level_\(level)")
            XCTAssertEqual(config.weightFormat, .q8)
        }
        XCTAssertEqual(try FetchRecord.load(set: set).format, "q8")
        let sample = try CLI.run(["sample", "--model", set, "--genre", "jazz", "--artist", "Mira Quell", "--seconds", "1",
                                  "--levels", "top", "-o", work + "/song"])
        XCTAssertEqual(sample.status, 0, sample.stderr)
    }
}
