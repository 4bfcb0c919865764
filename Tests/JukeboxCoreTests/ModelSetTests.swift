import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Random model sets: written by RandomModelSet, loaded and cross-checked by ModelSet.
final class ModelSetTests: XCTestCase {
    func writeSet(_ preset: RandomModelSet.Preset = .tiny, seed: UInt64 = 1) throws -> String {
        let path = temporaryFolder(self) + "/set"
        try RandomModelSet.write(preset: preset, seed: seed, to: path)
        return path
    }

    /// A label vector row for a prior: total length, offset, sample length, artist, genres (-1 pads), lyrics.
    func labelRow(_ c: PriorConfig, artist: Int, genre: Int, rng: inout SeededGenerator) -> [Int] {
        var y = [44100 * 30, 0, c.nCtx * 128, artist]
        y += [genre] + [Int](repeating: -1, count: c.maxBowGenreSize - 1)
        for _ in 0..<c.nTokens { y.append(Int(rng.next() % UInt64(c.nVocab))) }
        return y
    }

    func testTinySetLoadsAndEveryPriorScores() throws {
        let path = try writeSet()
        let start = Date()
        let set = try ModelSet.load(path)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(seconds, 1.0, "tiny set loads in well under a second")
        XCTAssertEqual(set.availableLevels, [2, 1, 0])
        XCTAssertTrue(set.isComplete)
        XCTAssertEqual(set.vqvae.hopLengths, [8, 32, 128])
        XCTAssertEqual(set.vqvae.sampleRate, 44100)

        // Label lists: v3 at the top, v2 for the upsamplers; the same invented artist in both.
        let top = try XCTUnwrap(set.vocabularies[2]), up = try XCTUnwrap(set.vocabularies[1])
        XCTAssertTrue(top.v3)
        XCTAssertFalse(up.v3)
        XCTAssertEqual(top.artistID("Nova Lark").id, 1)
        XCTAssertEqual(up.artistID("Nova Lark").id, 1)
        XCTAssertEqual(top.artistID("The Velvet Foxes").id, up.artistID("The Velvet Foxes").id)
        XCTAssertEqual(top.artistID("Nobody Real").id, 0)
        XCTAssertEqual(try top.genreIDs("Jazz", maxBowGenreSize: 1).ids, [2])

        var rng = SeededGenerator(seed: 9)
        let n = 2
        var previous: LevelCodes? = nil
        for level in [2, 1, 0] {
            let model = try set.prior(level: level)
            XCTAssertEqual(model.level, level)
            let c = model.prior.config
            let t = c.nCtx
            let z = try LevelCodes(n: n, t: t, values: (0..<(n * t)).map { _ in Int(rng.next() % UInt64(c.lBins)) })
            var y: [Int] = []
            for i in 0..<n { y += labelRow(c, artist: 1 + i, genre: 2, rng: &rng) }
            var zCond: LevelCodes? = nil
            if let conditioner = model.conditioner {
                let tc = t / conditioner.upsampling
                zCond = try LevelCodes(n: n, t: tc, values: (0..<(n * tc)).map { _ in Int(rng.next() % UInt64(c.lBins)) })
            }
            let bits = try model.bitsPerToken(z: z, zCond: zCond, y: LevelCodes(n: n, t: c.labelLength, values: y))
            XCTAssertEqual(bits.map(\.count), [t, t], "level \(level)")
            XCTAssertTrue(bits.joined().allSatisfy { $0.isFinite && $0 > 0 }, "level \(level)")
            // Random weights give about log2(vocabulary) bits: far from 0 and from absurd.
            let mean = bits.joined().reduce(0, +) / Double(n * t)
            XCTAssertGreaterThan(mean, 1, "level \(level)")
            XCTAssertLessThan(mean, 3 * log2(Double(model.prior.prior.bins)), "level \(level)")
            previous = z
        }
        XCTAssertNotNil(previous)
    }

    func testSameSeedWritesIdenticalWeightsAndAnotherSeedDoesNot() throws {
        let a = try writeSet(seed: 5), b = try writeSet(seed: 5), c = try writeSet(seed: 6)
        for member in ModelSet.memberNames {
            for file in ["config.json", "weights.safetensors"] {
                let x = FileManager.default.contents(atPath: "\(a)/\(member)/\(file)")
                XCTAssertNotNil(x)
                XCTAssertEqual(x, FileManager.default.contents(atPath: "\(b)/\(member)/\(file)"), "\(member)/\(file)")
            }
            XCTAssertNotEqual(FileManager.default.contents(atPath: "\(a)/\(member)/weights.safetensors"),
                              FileManager.default.contents(atPath: "\(c)/\(member)/weights.safetensors"), member)
        }
        // Members get different streams: the two upsamplers share shapes but not weights.
        XCTAssertNotEqual(FileManager.default.contents(atPath: "\(a)/prior_level_1/weights.safetensors"),
                          FileManager.default.contents(atPath: "\(a)/prior_level_0/weights.safetensors"))
    }

    func testSmallPresetHasTheSameLayoutButIsBigger() throws {
        let tiny = try ModelSet.inspect(writeSet(.tiny)), small = try ModelSet.inspect(writeSet(.small))
        XCTAssertEqual(small.availableLevels, [2, 1, 0])
        let tn = try tiny.priors[2]!.hps.int("prior_width"), sn = try small.priors[2]!.hps.int("prior_width")
        XCTAssertGreaterThan(sn, tn)
        XCTAssertTrue(try small.priors[2]!.hps.bool("single_enc_dec"))
        XCTAssertEqual(try small.priors[1]!.hps.int("level"), 1)
    }

    func testTopLevelOnlySet() throws {
        let path = try writeSet()
        try FileManager.default.removeItem(atPath: path + "/prior_level_1")
        try FileManager.default.removeItem(atPath: path + "/prior_level_0")
        let set = try ModelSet.load(path)
        XCTAssertEqual(set.availableLevels, [2])
        XCTAssertFalse(set.isComplete)
        XCTAssertThrowsError(try set.prior(level: 1)) { XCTAssertTrue("\($0)".contains("no prior for level 1"), "\($0)") }
    }

    func assertLoadFails(_ path: String, naming subject: String, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelSet.load(path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(error is JukeboxError, text, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(subject), "names \(subject): \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(what), "says \(what): \(text)", file: file, line: line)
        }
    }

    /// Rewrites one hps value of a member's config.json.
    func edit(_ member: String, _ key: String, _ value: Any) throws {
        let url = URL(fileURLWithPath: member + "/config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var hps = try XCTUnwrap(object["hps"] as? [String: Any])
        hps[key] = value
        object["hps"] = hps
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    func testInconsistentSetsAreRefusedWithOneLineNamingTheFolder() throws {
        let fm = FileManager.default
        var path = try writeSet()
        try fm.removeItem(atPath: path + "/prior_level_1")
        assertLoadFails(path, naming: "prior_level_0", "no prior_level_1 above it")

        path = try writeSet()
        try fm.removeItem(atPath: path + "/prior_level_2")
        assertLoadFails(path, naming: path, "no prior_level_2")

        path = try writeSet()
        try fm.removeItem(atPath: path + "/vqvae")
        assertLoadFails(path, naming: path, "no vqvae")

        path = try writeSet()
        try fm.createDirectory(atPath: path + "/prior_level_3", withIntermediateDirectories: false)
        assertLoadFails(path, naming: "prior_level_3", "not a level")

        // Swapped upsamplers: each says the other level.
        path = try writeSet()
        try fm.moveItem(atPath: path + "/prior_level_1", toPath: path + "/swap")
        try fm.moveItem(atPath: path + "/prior_level_0", toPath: path + "/prior_level_1")
        try fm.moveItem(atPath: path + "/swap", toPath: path + "/prior_level_0")
        assertLoadFails(path, naming: "prior_level_1/config.json", "says it is the level 0 prior")

        path = try writeSet()
        try edit(path + "/prior_level_1", "l_bins", 128)
        assertLoadFails(path, naming: "prior_level_1/config.json", "l_bins 128")

        path = try writeSet()
        try edit(path + "/prior_level_2", "downs_t", [2, 2, 2])
        assertLoadFails(path, naming: "prior_level_2/config.json", "hop lengths")

        path = try writeSet()
        try edit(path + "/prior_level_0", "levels", 2)
        assertLoadFails(path, naming: "prior_level_0/config.json", "levels 2")

        path = try writeSet()
        try fm.removeItem(atPath: path + "/prior_level_2/artist_ids.txt")
        assertLoadFails(path, naming: "prior_level_2", "artist id list")

        path = try writeSet()
        try "unknown;0\nrock;1\nfar away;40\n".write(toFile: path + "/prior_level_1/genre_ids.txt", atomically: true, encoding: .utf8)
        assertLoadFails(path, naming: "prior_level_1/genre_ids.txt", "genre id 40")

        // Weights that do not match their config (the top prior's in an upsampler's folder).
        path = try writeSet()
        try fm.removeItem(atPath: path + "/prior_level_1/weights.safetensors")
        try fm.copyItem(atPath: path + "/prior_level_2/weights.safetensors", toPath: path + "/prior_level_1/weights.safetensors")
        assertLoadFails(path, naming: "prior_level_1/weights.safetensors", "tensor")

        // A bar guide that does not fit the top prior, or is not a guide at all.
        path = try writeSet()
        let top = try ModelSet.load(path).priors[2]!.prior.config
        try BarGuide(artists: top.yBins[1], bins: 4, codes: top.lBins + 1, logRatio: Array(repeating: 0, count: top.yBins[1] * 4 * (top.lBins + 1)))
            .write(to: path + "/" + BarGuide.fileName)
        assertLoadFails(path, naming: BarGuide.fileName, "codes")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: path + "/" + BarGuide.fileName))
        assertLoadFails(path, naming: BarGuide.fileName, "not a safetensors file")
        try BarGuide(artists: top.yBins[1], bins: 4, codes: top.lBins, logRatio: Array(repeating: 0.5, count: top.yBins[1] * 4 * top.lBins))
            .write(to: path + "/" + BarGuide.fileName)
        XCTAssertEqual(try ModelSet.load(path).barGuide?.bins, 4)
    }

    func testWriteRefusesANonEmptyFolderAndLeavesNoTrace() throws {
        let parent = temporaryFolder(self)
        let path = parent + "/set"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "keep me".write(toFile: path + "/notes.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RandomModelSet.write(preset: .tiny, seed: 0, to: path)) {
            XCTAssertTrue("\($0)".contains("not empty"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path), ["notes.txt"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent), ["set"], "no working folder left behind")
        // An empty folder is fine.
        let empty = parent + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try RandomModelSet.write(preset: .tiny, seed: 0, to: empty)
        XCTAssertEqual(try ModelSet.inspect(empty).availableLevels, [2, 1, 0])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent).sorted(), ["empty", "set"])
    }
}
