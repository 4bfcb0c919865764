import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The bar clock: where each code falls in its bar, carried in the label vector, looked up in the top
/// prior's bar table and added to the timing signal; read from code files for training, added to a
/// trained prior at zero, and taken from the set's artist tempos when sampling.
final class BarClockTests: XCTestCase {
    static let clockHps: [String: Any] = ["attn_order": 12, "prior_depth": 2, "n_tokens": 6, "n_vocab": 9, "use_tokens": true,
                                          "single_enc_dec": true, "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14,
                                          "blocks": 4, "prior_width": 8, "bar_clock_bins": 6]

    func testBinsFollowTheBarFromTheDownbeat() throws {
        let clock = BarClock(barLength: 1200, downbeat: 300)
        XCTAssertEqual(clock.bin(atSample: 300, bins: 6), 0)
        XCTAssertEqual(clock.bin(atSample: 499, bins: 6), 0)
        XCTAssertEqual(clock.bin(atSample: 500, bins: 6), 1)
        XCTAssertEqual(clock.bin(atSample: 300 + 600, bins: 6), 3)
        XCTAssertEqual(clock.bin(atSample: 299, bins: 6), 5, "before the downbeat is the end of the bar before")
        XCTAssertEqual(clock.bin(atSample: 300 + 7 * 1200 + 1000, bins: 6), 5)
        XCTAssertEqual(try BarClock(bpm: 120).barLength, 88200, "4 beats of half a second at 44.1 kHz")
        XCTAssertEqual(try BarClock(bpm: 90, sampleRate: 48000).barLength, 128000)
        XCTAssertThrowsError(try BarClock(bpm: 0))
        XCTAssertThrowsError(try BarClock(bpm: .nan))
    }

    /// A session's bars: its tempo, and its downbeat in seconds when it recorded one (a primed session).
    func testASessionsBarsComeFromItsTempoAndDownbeat() throws {
        var prompt = SessionPrompt(artist: "a", genre: "g", lyrics: "", totalSeconds: 40, sampleSeconds: 10, temperatures: [1],
                                   seed: 0, samples: 1)
        XCTAssertNil(try prompt.barClock(sampleRate: 44100), "no tempo kept, no bars")
        prompt.bpm = 120
        XCTAssertEqual(try prompt.barClock(sampleRate: 44100), BarClock(barLength: 88200, downbeat: 0))
        prompt.downbeat = 0.25
        XCTAssertEqual(try prompt.barClock(sampleRate: 44100), BarClock(barLength: 88200, downbeat: 11025))
    }

    func testLabelVectorCarriesTheClockBetweenGenresAndLyrics() throws {
        let layout = LabelLayout(maxBowGenreSize: 2, nTokens: 3, barClock: true)
        XCTAssertEqual(layout.genres, 4..<6)
        XCTAssertEqual(layout.clock, 6..<8)
        XCTAssertEqual(layout.lyricStart, 8)
        XCTAssertEqual(layout.count, 11)
        XCTAssertEqual(layout.artistAndGenres, 3..<6, "swapping artist and genres leaves the clock alone")
        let y = try LabelVector.make(totalLength: 1000, offset: 10, sampleLength: 100, artistID: 2, genreIDs: [1],
                                     lyricTokens: [4, 5, 6], layout: layout, barClock: BarClock(barLength: 640, downbeat: 5))
        XCTAssertEqual(y, [1000, 10, 100, 2, 1, -1, 640, 5, 4, 5, 6])
        let none = try LabelVector.make(totalLength: 1000, offset: 10, sampleLength: 100, artistID: 2, genreIDs: [1],
                                        lyricTokens: [4, 5, 6], layout: layout)
        XCTAssertEqual(Array(none[6..<8]), [0, 0], "no clock is a bar length of 0")
        XCTAssertNoThrow(try LabelVector.validate(y, layout: layout, artistBins: 3, genreBins: 2, nVocab: 7))
        var negative = y
        negative[6] = -1
        XCTAssertThrowsError(try LabelVector.validate(negative, layout: layout, artistBins: 3, genreBins: 2, nVocab: 7))
        // The reference's layout is unchanged without a clock.
        let plain = LabelLayout(maxBowGenreSize: 2, nTokens: 3)
        XCTAssertEqual(plain.count, 9)
        XCTAssertEqual(try LabelVector.make(totalLength: 1000, offset: 10, sampleLength: 100, artistID: 2, genreIDs: [1],
                                            lyricTokens: [4, 5, 6], layout: plain, barClock: BarClock(barLength: 640)),
                       [1000, 10, 100, 2, 1, -1, 4, 5, 6])
        XCTAssertTrue(try LabelLayout(hps: PriorGradCheckTests.hps(Self.clockHps)).barClock)
        XCTAssertFalse(try LabelLayout(hps: PriorGradCheckTests.hps([:])).barClock)
    }

    func testTheTableRowOfEachCodesPlaceInTheBarIsAdded() throws {
        let hps = PriorGradCheckTests.hps(Self.clockHps)
        let prior = try Prior.randomWeights(hps: hps, seed: 3)
        let c = prior.config
        XCTAssertEqual(c.labelLength, 4 + 1 + 2 + 6)
        let conditioner = try XCTUnwrap(prior.labelConditioner)
        let table = try XCTUnwrap(conditioner.barPosEmb)
        XCTAssertEqual(table.shape, [6, 8])
        let hop = 128, offset = 5 * 44100
        func y(_ clock: [Int]) -> [Int] { [44100 * 30, offset, c.nCtx * hop, 1, 0] + clock + [1, 2, 3, 4, 5, 6] }
        let clock = BarClock(barLength: 7 * hop + 50, downbeat: 1000)
        let with = try XCTUnwrap(conditioner(y([clock.barLength, clock.downbeat]), batch: 1, stride: c.labelLength).timing)
        let without = try XCTUnwrap(conditioner(y([0, 0]), batch: 1, stride: c.labelLength).timing)
        var binsSeen = Set<Int>()
        for t in 0..<c.nCtx {
            let bin = clock.bin(atSample: offset + t * hop, bins: 6)
            binsSeen.insert(bin)
            for j in 0..<8 {
                XCTAssertEqual(with.data[t * 8 + j] - without.data[t * 8 + j], table.data[bin * 8 + j], accuracy: 1e-6)
            }
        }
        XCTAssertEqual(binsSeen.count, 6, "a window of two bars passes every bin")
        XCTAssertThrowsError(try conditioner(y([-5, 0]), batch: 1, stride: c.labelLength))
    }

    func testAddingAClockAtZeroKeepsThePriorsLoss() throws {
        var plain = Self.clockHps
        plain["bar_clock_bins"] = nil
        let hps = PriorGradCheckTests.hps(plain)
        let tensors = try Prior.randomTensors(hps: hps, seed: 4)
        let (clockedHps, clockedTensors) = try PriorBarClock.add(hps: hps, tensors: tensors, bins: 12)
        XCTAssertEqual(clockedTensors[PriorBarClock.tableKey]?.shape, [12, 8])
        let before = try Prior(config: PriorConfig(hps: hps), source: .dictionary(tensors))
        let after = try Prior(config: PriorConfig(hps: clockedHps), source: .dictionary(clockedTensors))
        var rng = SeededGenerator(seed: 2)
        let z = (0..<14).map { _ in Int(rng.next() % 13) }
        let y = [44100 * 30, 44100, 14 * 128, 1, 0]
        let lyrics = [1, 2, 3, 4, 5, 6]
        let lossBefore = try before.trainLoss(z: z, batch: 1, y: y + lyrics).total
        let lossAfter = try after.trainLoss(z: z, batch: 1, y: y + [88200, 0] + lyrics).total
        XCTAssertEqual(lossAfter, lossBefore, accuracy: 1e-6)
        XCTAssertThrowsError(try PriorBarClock.add(hps: clockedHps, tensors: clockedTensors, bins: 12), "already has one")
        XCTAssertThrowsError(try PriorBarClock.add(hps: PriorGradCheckTests.hps(["level": 1]), tensors: [:], bins: 12),
                             "an upsampler has no timing signal")
        XCTAssertThrowsError(try PriorConfig(hps: PriorGradCheckTests.hps(["level": 1, "bar_clock_bins": 4])))
    }

    func testTrainingWindowsReadTheCodeFilesClock() throws {
        let folder = temporaryFolder(self) + "/data"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let t = 200
        try CodesFile.write([("z2", try LevelCodes(n: 2, t: t, values: (0..<(2 * t)).map { $0 % 13 })),
                             ("labels", try LevelCodes(n: 2, t: 2, values: [1, 0, 2, 0])),
                             ("lyrics", try LevelCodes(n: 2, t: 3, values: [1, 2, 3, 4, 5, -1])),
                             ("bar_clock", try LevelCodes(n: 2, t: 2, values: [88200, 0, 0, 0]))],
                            to: folder + "/a.safetensors")
        var hps = Self.clockHps
        hps["min_duration"] = 0.1
        let data = try PriorTrainingData(folder: folder, hps: PriorGradCheckTests.hps(hps))
        let b = try data.batch(index: 0, size: 40, seed: 1)
        let y = try XCTUnwrap(b.y)
        var rows: Set<[Int]> = []
        for i in 0..<40 {
            let row = Array(y[(i * 13)..<(i * 13 + 13)])
            rows.insert([row[3]] + row[5..<7])
        }
        XCTAssertEqual(rows, [[1, 88200, 0], [2, 0, 0]], "song 1 keeps its clock, song 2 has none")

        try CodesFile.write([("z2", try LevelCodes(n: 1, t: t, values: Array(repeating: 0, count: t))),
                             ("bar_clock", try LevelCodes(n: 1, t: 1, values: [88200]))], to: folder + "/a.safetensors")
        XCTAssertThrowsError(try PriorTrainingData(folder: folder, hps: PriorGradCheckTests.hps(hps))) { error in
            XCTAssertTrue("\(error)".contains("bar_clock"), "\(error)")
        }
    }

    func testSamplingDefaultsKeepTheArtistsTempos() throws {
        let folder = temporaryFolder(self)
        let defaults = SamplingDefaults(top: 0.9, upsamplers: 0.8, songSeconds: 40,
                                        artistTempos: ["a b": 90, "c d": 120, "e f": 140])
        try defaults.json.write(to: URL(fileURLWithPath: folder + "/sampling.json"))
        let read = try XCTUnwrap(SamplingDefaults.load(setFolder: folder))
        XCTAssertEqual(read, defaults)
        XCTAssertEqual(read.tempo(artist: "a b", bpm: nil), 90)
        XCTAssertEqual(read.tempo(artist: "a b", bpm: 100), 100, "the user's tempo wins")
        XCTAssertEqual(read.tempo(artist: "unknown", bpm: nil), 120, "an artist it does not know gets the middle tempo")
        XCTAssertNil(SamplingDefaults(top: 1, upsamplers: 1).tempo(artist: "a b", bpm: nil))
        try Data(#"{"temperature_top": 0.9, "temperature_upsamplers": 0.8, "artist_bpm": {"a b": "fast"}}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/sampling.json"))
        XCTAssertThrowsError(try SamplingDefaults.load(setFolder: folder)) { error in
            XCTAssertTrue("\(error)".contains("artist_bpm of a b"), "\(error)")
        }
    }
}

extension BarClockTests {
    /// bar_clock_lr_scale speeds up the clock's table alone: from the same gradient, Adam's first step
    /// moves it that many times as far as any other parameter.
    func testTheClocksTableLearnsAtItsOwnRate() throws {
        var settings = try AdamSettings(hps: Hyperparameters(["lr": 0.01, "lr_warmup": 0.0, "bar_clock_lr_scale": 10.0], source: "test"))
        XCTAssertEqual(settings.barClockLrScale, 10)
        let optimizer = AdamOptimizer(settings: settings)
        let clock = Tensor(zeros: [2, 3]), other = Tensor(zeros: [2, 3])
        let gradient = Tensor(shape: [2, 3], values: [1, -2, 3, -4, 5, -6])
        optimizer.update([(PriorBarClock.tableKey, clock), ("y_emb.artist_emb.emb.weight", other)],
                         grads: [PriorBarClock.tableKey: gradient, "y_emb.artist_emb.emb.weight": gradient])
        for i in 0..<6 {
            XCTAssertNotEqual(other.data[i], 0)
            XCTAssertEqual(clock.data[i], 10 * other.data[i], accuracy: 1e-6)
        }
        settings.barClockLrScale = nil
        XCTAssertEqual(settings.learningRate(0.5, of: PriorBarClock.tableKey), 0.5)
        XCTAssertThrowsError(try AdamSettings(hps: Hyperparameters(["bar_clock_lr_scale": 0.0], source: "test")))
        // Saved in training.json and read back, so a resumed run keeps it.
        let json = try JSONEncoder().encode(try AdamSettings(hps: Hyperparameters(["bar_clock_lr_scale": 4.0], source: "test")))
        XCTAssertEqual(try JSONDecoder().decode(AdamSettings.self, from: json).barClockLrScale, 4)
        XCTAssertNil(try JSONDecoder().decode(AdamSettings.self, from: JSONEncoder().encode(AdamSettings())).barClockLrScale)
    }
}

/// The bar guide: counts of where each artist's codes fall in the bar, and sampling tilted by them.
final class BarGuideTests: XCTestCase {
    /// Two songs of artist 1 whose code is 5 on every downbeat place and 1 elsewhere; one song of artist 2
    /// without a clock (left out). `labels`: each song's artist and genre.
    static func writeCodes(_ folder: String, labels: [Int] = [1, 0, 1, 0, 2, 0]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let t = 400, barCodes = 20, hop = 128
        let onBeat = (0..<t).map { $0 % barCodes < 5 ? 5 : 1 }
        try CodesFile.write([("z2", try LevelCodes(n: 3, t: t, values: onBeat + onBeat + Array(repeating: 7, count: t))),
                             ("labels", try LevelCodes(n: 3, t: 2, values: labels)),
                             ("bar_clock", try LevelCodes(n: 3, t: 2, values: [barCodes * hop, 0, barCodes * hop, 0, 0, 0]))],
                            to: folder + "/a.safetensors")
    }

    static func hps() -> Hyperparameters {
        var h = BarClockTests.clockHps
        h["min_duration"] = 0.1
        return PriorGradCheckTests.hps(h)
    }

    func testCountsSayWhereTheArtistsCodesFall() throws {
        let folder = temporaryFolder(self) + "/codes"
        try Self.writeCodes(folder)
        let guide = try BarGuide.count(try PriorTrainingData(folder: folder, hps: Self.hps()), bins: 4)
        XCTAssertEqual([guide.artists, guide.bins, guide.codes], [7, 4, 13])
        let first = try XCTUnwrap(guide.row(artist: 1, bin: 0)), later = try XCTUnwrap(guide.row(artist: 1, bin: 2))
        // Code 5 fills the first quarter of every bar: far likelier there than overall, unlikelier later.
        XCTAssertGreaterThan(first[first.startIndex + 5], 1)
        XCTAssertLessThan(first[first.startIndex + 1], -1)
        XCTAssertLessThan(later[later.startIndex + 5], -1)
        XCTAssertGreaterThan(later[later.startIndex + 1], 0.2)
        XCTAssertTrue(try XCTUnwrap(guide.row(artist: 2, bin: 0)).allSatisfy { $0 == 0 }, "no clock, no counts: no guidance")
        XCTAssertNil(guide.row(artist: 9, bin: 0))

        // Written and read back whole; a broken file is refused naming it.
        let path = temporaryFolder(self) + "/" + BarGuide.fileName
        try guide.write(to: path)
        let read = try BarGuide.load(path)
        XCTAssertEqual(Array(try XCTUnwrap(read.row(artist: 1, bin: 0))), Array(first))
        try Data("not a guide".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try BarGuide.load(path)) { XCTAssertTrue("\($0)".contains(path), "\($0)") }
        XCTAssertThrowsError(try BarGuide(artists: 2, bins: 2, codes: 2, logRatio: [0, 0, 0]))
    }

    /// A guide that makes code 4 overwhelmingly likely in the first half of each bar: sampled with it, the
    /// top level plays code 4 there and rarely elsewhere; with strength 0 the same seed ignores it.
    func testGuidanceTiltsTheTopLevelTowardTheBar() throws {
        let model = try SamplingGeneratorTests.model(level: 1, seed: 40)
        let lBins = SamplingGeneratorTests.lBins, bins = 2
        var ratio = [Float](repeating: 0, count: 11 * bins * lBins)
        for a in 0..<11 { ratio[(a * bins + 0) * lBins + 4] = 30 }
        var set = try SamplingGeneratorTests.set(SamplingGeneratorTests.vqvae(), [1: model])
        set.barGuide = try BarGuide(artists: 11, bins: bins, codes: lBins, logRatio: ratio)
        var p = GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100, sampleLength: 4 * 40,
                                 settings: [SamplingSettings(temperature: 1)], seed: 7, samples: 2)
        p.barClock = BarClock(barLength: 4 * 10)   // 10 codes a bar: codes 0-4 in its first half
        p.barGuidance = 1
        let guided = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
        for s in 0..<2 {
            for t in 0..<guided.t where t % 10 < 5 { XCTAssertEqual(guided.values[s * guided.t + t], 4, "sample \(s) code \(t)") }
        }
        XCTAssertLessThan((0..<guided.t).filter { $0 % 10 >= 5 && guided.values[$0] == 4 }.count, 5)
        p.barGuidance = 0
        let free = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
        XCTAssertLessThan((0..<free.t).filter { $0 % 10 < 5 && free.values[$0] == 4 }.count, 10)
    }
}

/// The guide's genre tilt: which codes each genre uses more than all the songs do, and sampling pulled by it.
final class GenreGuideTests: XCTestCase {
    func testEachGenresTiltIsCountedFromAllItsSongs() throws {
        let folder = temporaryFolder(self) + "/codes"
        // Two clocked songs of genre 1 (code 5 on each bar's first quarter, 1 elsewhere), one unclocked of genre 2 (code 7).
        try BarGuideTests.writeCodes(folder, labels: [1, 1, 3, 1, 2, 2])
        let guide = try BarGuide.count(try PriorTrainingData(folder: folder, hps: BarGuideTests.hps()), bins: 4)
        let one = try XCTUnwrap(guide.genreRow(genre: 1)), two = try XCTUnwrap(guide.genreRow(genre: 2))
        XCTAssertEqual(one.count, guide.codes)
        // Genre 2's song has no clock, yet its codes count for its genre: code 7 is all it plays.
        // p(7 | genre 2) = (400 + 100 p(7)) / 500 with p(7) = 400.5 / 1206.5 overall.
        let p7: Double = 400.5 / 1206.5
        let expected: Double = log((400 + 100 * p7) / 500 / p7)
        XCTAssertEqual(Double(two[two.startIndex + 7]), expected, accuracy: 1e-5)
        XCTAssertLessThan(two[two.startIndex + 5], -1)
        XCTAssertGreaterThan(one[one.startIndex + 5], 0.3)
        XCTAssertLessThan(one[one.startIndex + 7], -1)
        XCTAssertTrue(try XCTUnwrap(guide.genreRow(genre: 3)).allSatisfy { $0 == 0 }, "a genre without songs is not tilted")
        XCTAssertNil(guide.genreRow(genre: guide.genres))

        // Written and read back; a guide written before genres were counted has none.
        let path = temporaryFolder(self) + "/" + BarGuide.fileName
        try guide.write(to: path)
        XCTAssertEqual(Array(try XCTUnwrap(try BarGuide.load(path).genreRow(genre: 2))), Array(two))
        try BarGuide(artists: guide.artists, bins: guide.bins, codes: guide.codes, logRatio: guide.logRatio).write(to: path)
        XCTAssertEqual(try BarGuide.load(path).genres, 0)
        XCTAssertThrowsError(try BarGuide(artists: 1, bins: 1, codes: 2, logRatio: [0, 0], genres: 2, genreLogRatio: [0, 0, 0]))

        // Grown by a guide counted with one more genre: the known genres keep their rows.
        let grownTable = guide.genreLogRatio + [Float](repeating: 0.5, count: guide.codes)
        let counted = try BarGuide(artists: guide.artists, bins: guide.bins, codes: guide.codes, logRatio: guide.logRatio,
                                   genres: guide.genres + 1, genreLogRatio: grownTable.map { $0 + 1 })
        let grown = try guide.grown(by: counted)
        XCTAssertEqual(grown.genres, guide.genres + 1)
        XCTAssertEqual(Array(try XCTUnwrap(grown.genreRow(genre: 2))), Array(two))
        XCTAssertEqual(Array(try XCTUnwrap(grown.genreRow(genre: guide.genres))), [Float](repeating: 1.5, count: guide.codes))
    }

    /// A tilt that makes code 4 overwhelmingly likely for genre 1: sampled with it, the top level plays code
    /// 4 throughout, with no clock needed; at strength 0, or for a genre without a tilt, the prior plays on.
    func testGuidanceTiltsTheTopLevelTowardTheGenre() throws {
        let model = try SamplingGeneratorTests.model(level: 1, seed: 40)
        let lBins = SamplingGeneratorTests.lBins
        var tilt = [Float](repeating: 0, count: 3 * lBins)
        tilt[1 * lBins + 4] = 30
        var set = try SamplingGeneratorTests.set(SamplingGeneratorTests.vqvae(), [1: model])
        set.barGuide = try BarGuide(artists: 11, bins: 1, codes: lBins, logRatio: [Float](repeating: 0, count: 11 * lBins),
                                    genres: 3, genreLogRatio: tilt)
        var p = GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100, sampleLength: 4 * 40,
                                 settings: [SamplingSettings(temperature: 1)], seed: 7, samples: 2)
        p.genreGuidance = 1
        let guided = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
        XCTAssertEqual(Set(guided.values), [4])
        p.genreGuidance = 0
        let free = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
        XCTAssertLessThan(free.values.filter { $0 == 4 }.count, free.values.count / 2)
        // Genre 2 has no tilt: guided or not, the same codes (its label, not the guide, sets them apart).
        p.genreIDs = [2]
        let otherGenre = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1].values
        p.genreGuidance = 1
        XCTAssertEqual(try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1].values, otherGenre)
    }
}

/// The prime's own guide: where in its bars the codes a continuation starts from fall, and a continuation
/// pulled to keep them there.
final class PrimeGuideTests: XCTestCase {
    /// A bar of 16 audio samples (one place per sample) over codes of hop 1: code 4 on the first half of
    /// each bar, 9 on the second.
    func testEachPlaceIsCountedFromThePrimeItself() throws {
        let clock = BarClock(barLength: 16)
        let prime = (0..<160).map { $0 % 16 < 8 ? 4 : 9 }
        let guide = try XCTUnwrap(PrimeGuide(primeCodes: prime[...], codes: 12, clock: clock, hop: 1, offset: 0))
        // Place 0 saw code 4 ten times of ten: p = (10 + 100 p(4)) / 110 with p(4) = 80.5 / 166 over the prime.
        let p4 = 80.5 / 166.0
        let first = guide.row(atSample: 0, clock: clock), second = guide.row(atSample: 8, clock: clock)
        XCTAssertEqual(Double(first[first.startIndex + 4]), log((10 + 100 * p4) / 110 / p4), accuracy: 1e-5)
        XCTAssertLessThan(first[first.startIndex + 9], 0)
        XCTAssertGreaterThan(second[second.startIndex + 9], 0)
        XCTAssertLessThan(second[second.startIndex + 4], 0)
        // The same place of a later bar; with the bar starting 8 samples in, the places move and each sample
        // of the song keeps its tilt (counted and read with one clock); a prime counted from sample 8 on (its
        // offset in the song) takes the places its codes had there.
        XCTAssertEqual(Array(guide.row(atSample: 16 * 7 + 3, clock: clock)), Array(guide.row(atSample: 3, clock: clock)))
        let late = BarClock(barLength: 16, downbeat: 8)
        let shifted = try XCTUnwrap(PrimeGuide(primeCodes: prime[...], codes: 12, clock: late, hop: 1, offset: 0))
        for x in 0..<16 { XCTAssertEqual(Array(shifted.row(atSample: x, clock: late)), Array(guide.row(atSample: x, clock: clock))) }
        let offset = try XCTUnwrap(PrimeGuide(primeCodes: prime[...], codes: 12, clock: clock, hop: 1, offset: 8))
        XCTAssertEqual(Array(offset.row(atSample: 0, clock: clock)), Array(second))
        // Less than a bar says nothing about the bar; a code outside the vocabulary is not counted.
        XCTAssertNil(PrimeGuide(primeCodes: prime[..<15], codes: 12, clock: clock, hop: 1, offset: 0))
        XCTAssertNotNil(PrimeGuide(primeCodes: prime[..<4], codes: 12, clock: clock, hop: 4, offset: 0))
        XCTAssertNil(PrimeGuide(primeCodes: (prime + [12])[...], codes: 12, clock: clock, hop: 1, offset: 0))
    }

    /// The share of `values` (codes from position `start` on, `bar` codes a bar) that play the primes' pattern:
    /// code 4 in the first half of each bar, 9 in the second.
    static func keptHalves(_ values: [Int], from start: Int, bar: Int) -> Double {
        Double(values.enumerated().filter { (start + $0.offset) % bar < bar / 2 ? $0.element == 4 : $0.element == 9 }.count)
            / Double(values.count)
    }

    /// A prime that plays code 4 in the first half of every bar and 9 in the second: continued with the
    /// prime guidance, the sampled codes keep those places; without it, the prior plays what it likes.
    func testAContinuationKeepsThePrimesPlacesInTheBar() throws {
        let model = try SamplingGeneratorTests.model(level: 1, seed: 40)
        let set = try SamplingGeneratorTests.set(SamplingGeneratorTests.vqvae(), [1: model])
        let primeLength = 800, hop = 4
        let prime = (0..<primeLength).map { $0 % 10 < 5 ? 4 : 9 }
        let codes = [try LevelCodes(n: 1, t: 0, values: []), try LevelCodes(n: 1, t: primeLength, values: prime)]
        var p = GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100,
                                 sampleLength: hop * (primeLength + 80), settings: [SamplingSettings(temperature: 1)], seed: 7, samples: 1)
        p.barClock = BarClock(barLength: hop * 10)   // 10 codes a bar: code 4 on its first half
        func continued() throws -> [Int] {
            Array(try Generator(models: set).generate(p, mode: .continuation(codes, lowestLevel: 1)).codes[1].values[primeLength...])
        }
        func kept(_ values: [Int]) -> Double { Self.keptHalves(values, from: primeLength, bar: 10) }
        p.primeGuidance = 10
        let guided = try continued()
        XCTAssertEqual(guided.count, 80)
        XCTAssertGreaterThan(kept(guided), 0.9, "\(guided)")
        p.primeGuidance = 0
        XCTAssertLessThan(kept(try continued()), 0.5)
        // Without a clock there are no places to keep: the guidance changes nothing.
        let unguided = try continued()
        p.barClock = nil
        let noClock = try continued()
        p.primeGuidance = 10
        XCTAssertEqual(try continued(), noClock)
        XCTAssertEqual(unguided.count, noClock.count)
    }

    /// The upsamplers keep the prime's places too: a bottom level whose prime plays code 4 in the first half
    /// of every bar and 9 in the second keeps them in its continuation, counted from its own prime codes (the
    /// level above says nothing of them here: its prime is one code throughout).
    func testAnUpsamplersContinuationKeepsThePrimesPlaces() throws {
        let set = SamplingGeneratorTests.shared   // level 1 (hop 4) on top of level 0 (hop 2)
        let topPrime = 1000, bar = 40             // 40 audio samples a bar: 20 bottom codes, 10 top codes
        let bottomPrime = (0..<(2 * topPrime)).map { $0 % 20 < 10 ? 4 : 9 }
        let codes = [try LevelCodes(n: 1, t: 2 * topPrime, values: bottomPrime),
                     try LevelCodes(n: 1, t: topPrime, values: [Int](repeating: 2, count: topPrime))]
        var p = GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100,
                                 sampleLength: 4 * (topPrime + 20), settings: [SamplingSettings(temperature: 1)], seed: 7, samples: 1)
        p.barClock = BarClock(barLength: bar)
        func continued() throws -> [Int] {
            let result = try Generator(models: set).generate(p, mode: .continuation(codes, lowestLevel: 0))
            XCTAssertEqual(result.codes[1].t, topPrime + 20)
            return Array(result.codes[0].values[(2 * topPrime)...])
        }
        func kept(_ values: [Int]) -> Double { Self.keptHalves(values, from: 2 * topPrime, bar: 20) }
        p.primeGuidance = 10
        let guided = try continued()
        XCTAssertEqual(guided.count, 40)
        XCTAssertGreaterThan(kept(guided), 0.9, "\(guided)")
        p.primeGuidance = 0
        XCTAssertLessThan(kept(try continued()), 0.5)
    }
}
