import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Session folders: round trips, atomic writes, damaged files, format versions.
final class SessionTests: XCTestCase {
    /// The renders a judge hears: the finest level's WAVs in sample order (sample 10 after sample 2),
    /// other files ignored, nil where nothing is rendered.
    func testFinestRendersAreTheLowestLevelInSampleOrder() throws {
        let dir = temporaryFolder(self)
        let folder = SessionFolder(path: dir)
        XCTAssertNil(folder.finestRenders())
        for name in ["render-level1-sample0.wav", "render-level0-sample10.wav", "render-level0-sample2.wav",
                     "render-level0-sample0.wav", "render-levelx-sample0.wav", "render-level0-mix.wav", "notes.wav"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data()))
        }
        let renders = try XCTUnwrap(folder.finestRenders())
        XCTAssertEqual(renders.level, 0)
        XCTAssertEqual(renders.files, [0, 2, 10].map { folder.renderPath(level: 0, sample: $0) })
    }

    func document(samples: Int = 2) -> SessionDocument {
        let prompt = SessionPrompt(artist: "Nova Lark", genre: "jazz", lyrics: "la la\nlaa ♪", totalSeconds: 60,
                                   sampleSeconds: 12.5, temperatures: [0.99, 0.99, 0.98], topK: 40, topP: 0.95,
                                   seed: UInt64.max - 7, samples: samples, mode: .ancestral)
        return SessionDocument(
            prompt: prompt, modelSet: "/models/tiny", settings: ["hop_fraction": "0.5"],
            seeds: (0..<samples).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 },
            rngStates: (0..<samples).map { [UInt64.max, UInt64($0), 1 << 63, 12345] },
            history: [WindowRecord(level: 2, window: 0, start: 0, length: 128, candidates: [0, 1, 2], kept: 1),
                      WindowRecord(level: 2, window: 1, start: 64, length: 128, candidates: [3], kept: nil)])
    }

    func codes(samples: Int, t: Int, seed: UInt64) throws -> LevelCodes {
        var rng = SeededGenerator(seed: seed)
        return try LevelCodes(n: samples, t: t, values: (0..<(samples * t)).map { _ in Int(rng.next() % 2048) })
    }

    func assertFails(_ body: @autoclosure () throws -> Any, naming subject: String, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(error is JukeboxError, text, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(subject), "names \(subject): \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(what), "says \(what): \(text)", file: file, line: line)
        }
    }

    func testDocumentAndCodesRoundTrip() throws {
        let path = temporaryFolder(self) + "/s"
        let doc = document()
        let folder = try SessionFolder.create(at: path, document: doc)
        let (reopened, read) = try SessionFolder.open(path)
        XCTAssertEqual(read, doc)
        XCTAssertEqual(read.rngStates[0][0], UInt64.max, "64-bit states survive JSON exactly")
        XCTAssertEqual(read.prompt.seed, UInt64.max - 7)
        XCTAssertEqual(read.history[0].discarded, [0, 2])
        XCTAssertEqual(reopened.path, folder.path)

        XCTAssertEqual(try folder.loadCodes(samples: 2), [:], "no codes yet")
        let z2 = try codes(samples: 2, t: 50, seed: 1), z1 = try codes(samples: 2, t: 200, seed: 2)
        try folder.saveCodes([2: z2, 1: z1], samples: 2)
        XCTAssertEqual(try folder.loadCodes(samples: 2), [2: z2, 1: z1])

        var changed = read
        changed.history.append(WindowRecord(level: 1, window: 0, start: 0, length: 128, candidates: [0, 1], kept: 0))
        changed.rngStates[1] = [7, 8, 9, 10]
        try folder.save(changed)
        XCTAssertEqual(try SessionFolder.open(path).document, changed)
        XCTAssertTrue(folder.renderPath(level: 0, sample: 1).hasSuffix("/render-level0-sample1.wav"))

        assertFails(try SessionFolder.create(at: path, document: doc), naming: "session.json", "already exists")
    }

    func testFailedWriteLeavesTheOldFile() throws {
        let path = temporaryFolder(self) + "/s"
        let folder = try SessionFolder.create(at: path, document: document())
        let before = try Data(contentsOf: URL(fileURLWithPath: folder.documentPath))
        // An invalid document is refused before anything is written.
        var bad = document()
        bad.rngStates.removeLast()
        assertFails(try folder.save(bad), naming: "session.json", "rngStates has 1 entries for 2 samples")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.documentPath)), before)
        // A write that fails (its temporary file cannot be made: a folder sits at its name) leaves the old file.
        let z = try codes(samples: 2, t: 10, seed: 3)
        try folder.saveCodes([2: z], samples: 2)
        let codesBefore = try Data(contentsOf: URL(fileURLWithPath: folder.codesPath))
        for file in [folder.documentPath, folder.codesPath] {
            try FileManager.default.createDirectory(atPath: file + ".tmp-\(getpid())", withIntermediateDirectories: false)
        }
        var changed = document()
        changed.prompt.artist = "Someone Else"
        XCTAssertThrowsError(try folder.save(changed))
        XCTAssertThrowsError(try folder.saveCodes([2: try codes(samples: 2, t: 20, seed: 4)], samples: 2))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.documentPath)), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.codesPath)), codesBefore)
        XCTAssertEqual(try SessionFolder.open(path).document, document())
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let path = temporaryFolder(self) + "/s"
        let folder = try SessionFolder.create(at: path, document: document())
        for i in 0..<5 {
            var d = document()
            d.history.append(WindowRecord(level: 2, window: 2 + i, start: 0, length: 1, candidates: [i], kept: i))
            try folder.save(d)
            try folder.saveCodes([2: try codes(samples: 2, t: 10 + i, seed: UInt64(i))], samples: 2)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).sorted(), ["codes.safetensors", "session.json"])
    }

    func testDamagedDocumentIsReportedNotReplaced() throws {
        let path = temporaryFolder(self) + "/s"
        let folder = try SessionFolder.create(at: path, document: document())
        let good = try Data(contentsOf: URL(fileURLWithPath: folder.documentPath))
        func damage(_ data: Data) throws { try data.write(to: URL(fileURLWithPath: folder.documentPath)) }

        try damage(good.prefix(good.count / 2))
        assertFails(try SessionFolder.open(path), naming: "session.json", "not valid JSON")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.documentPath)), good.prefix(good.count / 2),
                       "the damaged file is left for the user")
        try damage(Data())
        assertFails(try SessionFolder.open(path), naming: "session.json", "empty")
        try damage(Data("[1, 2]".utf8))
        assertFails(try SessionFolder.open(path), naming: "session.json", "not a JSON object")

        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        var prompt = try XCTUnwrap(object["prompt"] as? [String: Any])
        prompt.removeValue(forKey: "artist")
        object["prompt"] = prompt
        try damage(JSONSerialization.data(withJSONObject: object))
        assertFails(try SessionFolder.open(path), naming: "session.json", "prompt.artist is missing")

        prompt["artist"] = 5
        object["prompt"] = prompt
        try damage(JSONSerialization.data(withJSONObject: object))
        assertFails(try SessionFolder.open(path), naming: "session.json", "prompt.artist")

        prompt["artist"] = "A"
        prompt["mode"] = "telepathy"
        object["prompt"] = prompt
        try damage(JSONSerialization.data(withJSONObject: object))
        assertFails(try SessionFolder.open(path), naming: "session.json", "prompt.mode")

        object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        var history = try XCTUnwrap(object["history"] as? [[String: Any]])
        history[0]["kept"] = 9
        object["history"] = history
        try damage(JSONSerialization.data(withJSONObject: object))
        assertFails(try SessionFolder.open(path), naming: "session.json", "history[0] keeps candidate 9")

        object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        object.removeValue(forKey: "formatVersion")
        try damage(JSONSerialization.data(withJSONObject: object))
        assertFails(try SessionFolder.open(path), naming: "session.json", "no formatVersion")
    }

    func testFormatVersions() throws {
        let path = temporaryFolder(self) + "/s"
        let folder = try SessionFolder.create(at: path, document: document())
        let good = try Data(contentsOf: URL(fileURLWithPath: folder.documentPath))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        XCTAssertEqual(object["formatVersion"] as? Int, SessionDocument.currentFormatVersion)

        object["formatVersion"] = SessionDocument.currentFormatVersion + 1
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: folder.documentPath))
        assertFails(try SessionFolder.open(path), naming: "session.json", "newer than this build reads")
        object["formatVersion"] = 0
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: folder.documentPath))
        assertFails(try SessionFolder.open(path), naming: "session.json", "format version 0")
        object["formatVersion"] = "one"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: folder.documentPath))
        assertFails(try SessionFolder.open(path), naming: "session.json", "formatVersion should be an integer")

        // The migration hook: a made-up version 1 → 2 step that renames a field, as a future format would.
        var v1 = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
        v1["modelFolder"] = v1.removeValue(forKey: "modelSet")
        v1["formatVersion"] = 1
        let steps: [Int: SessionMigration.Step] = [1: { old in
            var new = old
            new["modelSet"] = new.removeValue(forKey: "modelFolder")
            return new
        }]
        let migrated = try SessionMigration.migrate(v1, from: 1, source: "s.json", steps: steps, current: 2)
        XCTAssertEqual(migrated["modelSet"] as? String, "/models/tiny")
        XCTAssertEqual(migrated["formatVersion"] as? Int, 2)
        XCTAssertNil(migrated["modelFolder"])
        XCTAssertThrowsError(try SessionMigration.migrate(v1, from: 1, source: "s.json", steps: [:], current: 2)) {
            XCTAssertTrue("\($0)".contains("older than this build can migrate"), "\($0)")
        }
    }

    func testDamagedCodesAreReported() throws {
        let path = temporaryFolder(self) + "/s"
        let folder = try SessionFolder.create(at: path, document: document())
        let z2 = try codes(samples: 2, t: 64, seed: 1)
        try folder.saveCodes([2: z2], samples: 2)
        let good = try Data(contentsOf: URL(fileURLWithPath: folder.codesPath))

        try good.prefix(good.count - 100).write(to: URL(fileURLWithPath: folder.codesPath))
        assertFails(try folder.loadCodes(samples: 2), naming: "codes.safetensors", "truncated")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.codesPath)).count, good.count - 100, "left as found")

        try good.prefix(5).write(to: URL(fileURLWithPath: folder.codesPath))
        assertFails(try folder.loadCodes(samples: 2), naming: "codes.safetensors", "only 5 bytes")

        try good.write(to: URL(fileURLWithPath: folder.codesPath))
        assertFails(try folder.loadCodes(samples: 3), naming: "codes.safetensors", "z2 has 2 rows but the session has 3 samples")
        assertFails(try folder.saveCodes([1: z2], samples: 3), naming: "codes.safetensors", "z1 has 2 rows for 3 samples")

        try CodesFile.write([("z7", z2)], to: folder.codesPath)
        assertFails(try folder.loadCodes(samples: 2), naming: "codes.safetensors", "unexpected tensor z7")
        var w = SafetensorsWriter()
        w.add("z2", shape: [2, 64], floats: [Float](repeating: 0, count: 128))
        try w.write(to: folder.codesPath)
        assertFails(try folder.loadCodes(samples: 2), naming: "codes.safetensors", "integers")
        try CodesFile.write([("z0", try LevelCodes(n: 2, t: 2, values: [1, -4, 2, 3]))], to: folder.codesPath)
        assertFails(try folder.loadCodes(samples: 2), naming: "codes.safetensors", "negative code -4")
    }

    /// Codes and document change together: each save writes a new generation of codes, the document naming it
    /// is renamed into place, and older generations go. A kill between the two leaves the previous pair whole.
    func testCodesAndDocumentChangeAsOnePair() throws {
        let path = NSTemporaryDirectory() + "jukebox-pair-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let doc = document()
        let folder = try SessionFolder.create(at: path, document: doc)
        // A session of format 1: codes.safetensors, named by nothing.
        let z1 = try codes(samples: 2, t: 10, seed: 1)
        try folder.saveCodes([2: z1], samples: 2)
        XCTAssertEqual(folder.codesPath, path + "/codes.safetensors")

        let z2 = try codes(samples: 2, t: 130, seed: 2)
        try folder.save(doc, codes: [2: z2], samples: 2)
        XCTAssertEqual(try folder.loadDocument().codesFile, "codes-000001.safetensors")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).sorted(), ["codes-000001.safetensors", "session.json"])
        XCTAssertEqual(try folder.loadCodes(samples: 2)[2], z2)

        // Killed after the next generation's codes were written, before the document was renamed in:
        // the document still names the previous codes, and they are whole.
        let z3 = try codes(samples: 2, t: 140, seed: 3)
        try CodesFile.write([("z2", z3)], to: path + "/codes-000002.safetensors")
        let (_, reopened) = try SessionFolder.open(path)
        XCTAssertEqual(try folder.loadCodes(for: reopened, levels: 3)[2], z2)
        // The next save goes past the stray generation and removes it.
        try folder.save(reopened, codes: [2: z3], samples: 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path).sorted(), ["codes-000003.safetensors", "session.json"])
        XCTAssertEqual(try folder.loadCodes(samples: 2)[2], z3)
        // Saving the document alone keeps the codes it names.
        var edited = doc
        edited.settings["note"] = "x"
        try folder.save(edited)
        XCTAssertEqual(try folder.loadDocument().codesFile, "codes-000003.safetensors")
    }
}
