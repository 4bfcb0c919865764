import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining
import XCTest

/// `jukebox dataset build` as a user runs it: a small corpus on disk, the same again from the same
/// seed, and clean failures.
final class DatasetCommandTests: XCTestCase {
    static let soundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

    func requireRenderers() throws { try requireCorpusRenderers() }

    func songs(_ folder: String) throws -> [CorpusSong] {
        let text = try String(contentsOfFile: folder + "/songs.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(CorpusSong.self, from: Data($0.utf8)) }
    }

    func testBuildWritesLabelledAudioForEveryGenre() throws {
        try requireRenderers()
        let dir = temporaryFolder(self)
        // Two rounds of the eight genres; the plan holds two songs out.
        let r = try CLI.run(["dataset", "build", "--out", dir + "/corpus", "--seed", "5", "--minutes", "6",
                             "--artists-per-genre", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("wrote"), r.stderr)
        let list = try songs(dir + "/corpus")
        XCTAssertEqual(Set(list.map(\.genre)), Set(GenreStyle.all.map(\.name)))
        XCTAssertTrue(list.contains { !$0.lyrics.isEmpty }, "some songs carry lyrics")
        XCTAssertGreaterThanOrEqual(list.reduce(0) { $0 + $1.seconds }, 6 * 60)
        XCTAssertEqual(list.filter { $0.split == "test" }.count, 2)
        for song in list {
            let audio = try AudioFile.read(dir + "/corpus/" + song.file)
            XCTAssertEqual(audio.sampleRate, 44100)
            XCTAssertEqual(audio.channels, 1)
            XCTAssertEqual(Double(audio.frames) / 44100, song.seconds, accuracy: 1e-3)
            let rms = (audio.samples.reduce(0) { $0 + $1 * $1 } / Float(audio.samples.count)).squareRoot()
            XCTAssertGreaterThan(rms, 0.02, "\(song.id) is not silent")
            XCTAssertLessThanOrEqual(audio.samples.map(abs).max() ?? 0, 1)
        }
        // The label lists name every genre and artist, in the format model folders carry.
        let vocabulary = try LabelVocabulary(artistsFile: dir + "/corpus/artist_ids.txt",
                                             genresFile: dir + "/corpus/genre_ids.txt", v3: true)
        for song in list {
            XCTAssertNil(vocabulary.artistID(song.artist).warning, song.artist)
            XCTAssertNotEqual(vocabulary.artistID(song.artist).id, 0)
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/corpus/dataset.json"))) as? [String: Any]
        XCTAssertEqual(summary?["songs"] as? Int, list.count)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }, [],
                       "no working folder is left behind")

        try judgeGenres(corpus: dir + "/corpus", scratch: dir)
        try encodeAndTrain(corpus: dir + "/corpus", songs: list, scratch: dir)
    }

    /// `jukebox dataset encode` turns the held-out songs into labelled code files that `train prior` takes.
    func encodeAndTrain(corpus: String, songs list: [CorpusSong], scratch dir: String) throws {
        let encoded = try CLI.run(["dataset", "encode", "--vqvae", dir + "/set/vqvae", "--data", corpus, "--split", "test",
                                   "-o", dir + "/codes"])
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let vqvae = try VQVAE(folder: dir + "/set/vqvae")
        let vocabulary = try LabelVocabulary(modelFolder: corpus, v3: true)
        let text = TextProcessor(v3: true)
        for song in list where song.split == "test" {
            let path = dir + "/codes/\(song.id).safetensors"
            let top = try CodesFile.read(path, "z\(vqvae.levels - 1)"), finest = try CodesFile.read(path, "z0")
            let samples = Int(song.seconds * Double(vqvae.sampleRate)) / vqvae.hopLengths.last! * vqvae.hopLengths.last!
            XCTAssertEqual(top.t * vqvae.hopLengths.last!, samples, song.id)
            XCTAssertEqual(finest.t * vqvae.hopLengths[0], samples, song.id)
            XCTAssertEqual(try CodesFile.read(path, "labels").values,
                           [vocabulary.artistID(song.artist).id] + (try vocabulary.genreIDs(song.genre, maxBowGenreSize: 1).ids))
            XCTAssertEqual(try CodesFile.read(path, "lyrics").values, text.tokens(forLyrics: song.lyrics))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/codes").count, 2, "the test split only")
        try #"{"lr": 0.0003, "bs": 1}"#.write(toFile: dir + "/train.json", atomically: true, encoding: .utf8)
        let trained = try CLI.run(["train", "prior", "--data", dir + "/codes", "--level", "1", "--init", dir + "/set/prior_level_1",
                                   "--config", dir + "/train.json", "--out", dir + "/ckpt", "--steps", "2"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/ckpt/weights.safetensors"))
        assertCleanFailure(try CLI.run(["dataset", "encode", "--vqvae", dir + "/set/vqvae", "--data", corpus, "--split", "dev",
                                        "-o", dir + "/x"]), naming: "--split")
        try alignLyrics(corpus: corpus, songs: list, scratch: dir)
    }

    /// The corpus knows when each word is sung; a top prior taught by it is measured (`eval alignment`) and its
    /// head chosen (`train alignment`), as a user with their own prior would.
    func alignLyrics(corpus: String, songs list: [CorpusSong], scratch dir: String) throws {
        for song in list {
            let words = try XCTUnwrap(song.words, song.id)
            XCTAssertEqual(words.map(\.text), song.lyrics.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            XCTAssertEqual(words.map(\.start), words.map(\.start).sorted(), song.id)
            XCTAssertTrue(words.allSatisfy { $0.start >= 0 && $0.end > $0.start && $0.end <= song.seconds }, song.id)
        }
        let sung = list.filter { !$0.lyrics.isEmpty }
        XCTAssertFalse(sung.isEmpty, "some artists sing")
        let encoded = try CLI.run(["dataset", "encode", "--vqvae", dir + "/set/vqvae", "--data", corpus, "--split", "all",
                                   "-o", dir + "/codes-all"])
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let times = try CodesFile.read(dir + "/codes-all/\(sung[0].id).safetensors", "word_times")
        XCTAssertEqual(times.n, sung[0].words!.count)
        XCTAssertEqual(times.values[0], Int((sung[0].words![0].start * 1000).rounded()))

        let guided = try CLI.run(["train", "prior", "--data", dir + "/codes-all", "--level", "2", "--init", dir + "/set/prior_level_2",
                                  "--config", dir + "/train.json", "--out", dir + "/top", "--steps", "3", "--log-every", "1",
                                  "--align-layer", "15", "--align-head", "1"])
        XCTAssertEqual(guided.status, 0, guided.stderr)
        XCTAssertTrue(guided.stderr.contains("alignment "), guided.stderr)
        assertCleanFailure(try CLI.run(["train", "prior", "--data", dir + "/codes-all", "--level", "2", "--init", dir + "/set/prior_level_2",
                                        "--out", dir + "/top2", "--steps", "1", "--align-layer", "3"]), naming: "--align-layer")

        let chosen = try CLI.run(["train", "alignment", "--prior", dir + "/top", "--data", dir + "/codes-all", "--songs", "2", "--json"])
        XCTAssertEqual(chosen.status, 0, chosen.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(chosen.stdout.utf8)) as? [String: Any])
        let pick = try XCTUnwrap(report["chosen"] as? [String: Any])
        XCTAssertEqual((report["candidates"] as? [Any])?.count, 2, "both heads of the one lyric layer")
        XCTAssertEqual((report["held_near_even"] as? [Any])?.count, 2 * 4, "both heads, each at four spreads")
        let config = try ModelConfig.load(folder: dir + "/top")
        XCTAssertEqual(try config.hps.int("alignment_layer"), pick["layer"] as? Int)
        XCTAssertEqual(try config.hps.int("alignment_head"), pick["head"] as? Int)
        // Held near the even spread when that put the words nearer (the spread recorded), else read alone.
        XCTAssertEqual(config.hps.has(LyricAlignment.spreadKey) ? try config.hps.double(LyricAlignment.spreadKey) : nil,
                       pick["spread"] as? Double)

        let measured = try CLI.run(["eval", "alignment", "--prior", dir + "/top", "--data", dir + "/codes-all", "--songs", "2", "--json"])
        XCTAssertEqual(measured.status, 0, measured.stderr)
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(measured.stdout.utf8)) as? [String: Any])
        XCTAssertNotNil((figures["held_near_even"] as? [String: Any])?["spread"] as? Double, measured.stdout)
        for key in ["alignment", "even_spread"] {
            let e = try XCTUnwrap(figures[key] as? [String: Any], measured.stdout)
            XCTAssertGreaterThan(e["words"] as? Int ?? 0, 0)
            let median = try XCTUnwrap(e["median_seconds"] as? Double), p90 = try XCTUnwrap(e["p90_seconds"] as? Double)
            XCTAssertTrue(median >= 0 && median <= p90 && p90 < 60, measured.stdout)
        }
        let table = try CLI.run(["eval", "alignment", "--prior", dir + "/top", "--data", dir + "/codes-all", "--songs", "1"])
        XCTAssertTrue(table.stdout.contains("even spread"), table.stdout)
        assertCleanFailure(try CLI.run(["eval", "alignment", "--prior", dir + "/set/prior_level_1", "--data", dir + "/codes-all"]),
                           naming: "prior_level_1")
        // Codes of a recording with no lyrics or word times: nothing to measure against.
        try FileManager.default.createDirectory(atPath: dir + "/plain", withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["encode", "--vqvae", dir + "/set/vqvae", corpus + "/" + list[0].file, "-o",
                                    dir + "/plain/x.safetensors"]).status, 0)
        assertCleanFailure(try CLI.run(["eval", "alignment", "--prior", dir + "/top", "--data", dir + "/plain"]), naming: "word times")
    }

    /// `jukebox eval genre` on the corpus just built: the held-out songs, then a sample session.
    func judgeGenres(corpus: String, scratch dir: String) throws {
        let held = try CLI.run(["eval", "genre", "--data", corpus, "--json"])
        XCTAssertEqual(held.status, 0, held.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(held.stdout.utf8)) as? [String: Any])
        let heldOut = try XCTUnwrap(report["held_out"] as? [String: Any])
        XCTAssertEqual(heldOut["count"] as? Int, 2)
        XCTAssertEqual(report["chance"] as? Double, 1.0 / Double(GenreStyle.all.count))
        // One training song per genre is little, but the genres are caricatures of themselves.
        XCTAssertGreaterThanOrEqual(heldOut["accuracy"] as? Double ?? 0, 0.5, held.stdout)

        let made = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "1", "-o", dir + "/set"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let sampled = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--artist", RandomModelSet.artists[0],
                                   "--lyrics", "la", "--seconds", "6", "--samples", "2", "-o", dir + "/session"])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let judged = try CLI.run(["eval", "genre", "--data", corpus, dir + "/session"])
        XCTAssertEqual(judged.status, 0, judged.stderr)
        XCTAssertTrue(judged.stdout.contains("samples: 2 clips"), judged.stdout)
        XCTAssertTrue(judged.stdout.contains("held-out corpus songs: 2"), judged.stdout)
        XCTAssertTrue(judged.stdout.contains("the intended genre's probability"), judged.stdout)
        let judgedJSON = try CLI.run(["eval", "genre", "--data", corpus, dir + "/session", "--json"])
        let samples = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(judgedJSON.stdout.utf8)) as? [String: Any])?["samples"] as? [String: Any])
        let probability = try XCTUnwrap(samples["intended_probability"] as? Double, judgedJSON.stdout)
        XCTAssertTrue(probability > 0 && probability < 1, judgedJSON.stdout)
        // Clip by clip: which clips were misheard, and as what; the text lists each misheard clip by file.
        let verdicts = try XCTUnwrap(samples["clips"] as? [[String: Any]], judgedJSON.stdout)
        XCTAssertEqual(verdicts.count, 2)
        let labels = try XCTUnwrap(samples["labels"] as? [String])
        for verdict in verdicts {
            XCTAssertEqual(verdict["intended"] as? String, "jazz")
            XCTAssertTrue(labels.contains(verdict["named"] as? String ?? "?"), "\(verdict)")
            XCTAssertTrue((verdict["file"] as? String ?? "").hasPrefix(dir + "/session/"), "\(verdict)")
        }
        let mean = verdicts.compactMap { $0["intended_probability"] as? Double }.reduce(0, +) / 2
        XCTAssertEqual(mean, probability, accuracy: 1e-9, "both clips have the same number of segments")
        let misheard = verdicts.filter { $0["named"] as? String != "jazz" }
        XCTAssertEqual(judged.stdout.components(separatedBy: "\nmisheard: ").count - 1, misheard.count, judged.stdout)
        for verdict in misheard {
            XCTAssertTrue(judged.stdout.contains("misheard: \(verdict["file"]!) (jazz asked, heard as \(verdict["named"]!);"), judged.stdout)
        }
        // A random model's clips are noise, far flatter in the high band than the songs.
        let sound = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(judgedJSON.stdout.utf8)) as? [String: Any])?["sound"] as? [String: Double])
        let clipsFlatness = try XCTUnwrap(sound["high_band_flatness"]), songsFlatness = try XCTUnwrap(sound["held_out_high_band_flatness"])
        XCTAssertGreaterThan(clipsFlatness, songsFlatness + 0.1, judgedJSON.stdout)
        XCTAssertTrue(judged.stdout.contains("4-22 kHz flatness"), judged.stdout)

        // The intended genre's probability follows the truth: the held-out songs judged as their own
        // genre score well above chance, and above the same songs judged as the next genre in the list.
        let evaluation = try GenreEvaluation.fromCorpus(corpus)
        let genres = evaluation.classifier.genres
        let heldOutSongs = try CorpusIndex.read(corpus).filter { $0.split == "test" }
        let right = try evaluation.judge(heldOutSongs.map { (corpus + "/" + $0.file, $0.genre) })
        let wrong = try evaluation.judge(heldOutSongs.map { song in
            (corpus + "/" + song.file, genres[(genres.firstIndex(of: song.genre)! + 1) % genres.count])
        })
        XCTAssertGreaterThan(right.intendedProbability, 2.0 / Double(genres.count))
        XCTAssertGreaterThan(right.intendedProbability, wrong.intendedProbability)
        XCTAssertEqual(right.matrix.accuracy, evaluation.heldOut.accuracy)

        // What a user gets: the genre's artists in turn and lyrics written fresh, not the training songs'; the
        // accuracy comes with its 95 % interval.
        let fresh = try CLI.run(["eval", "genre", "--data", corpus, "--model", dir + "/set", "--sample-per-genre", "1",
                                 "--seconds", "2", "--seed", "101", "--sessions-out", dir + "/fresh", "--json"])
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        let freshReport = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(fresh.stdout.utf8)) as? [String: Any])
        let freshSamples = try XCTUnwrap(freshReport["samples"] as? [String: Any], fresh.stdout)
        XCTAssertEqual(freshSamples["count"] as? Int, GenreStyle.all.count)
        let interval = try XCTUnwrap(freshSamples["interval_95"] as? [Double])
        let accuracy = try XCTUnwrap(freshSamples["accuracy"] as? Double)
        XCTAssertTrue(interval.count == 2 && interval[0] <= accuracy && accuracy <= interval[1] && interval[1] - interval[0] > 0.2, "\(interval)")
        let training = try CorpusIndex.read(corpus).filter { $0.split == "train" }
        for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/fresh") {
            let prompt = try SessionFolder.open(dir + "/fresh/" + name).1.prompt
            XCTAssertEqual(prompt.lyrics.split(separator: "\n").count, 2, prompt.lyrics)
            XCTAssertFalse(training.contains { $0.lyrics.contains(prompt.lyrics) }, "fresh lyrics, not a training song's: \(prompt.lyrics)")
            XCTAssertTrue(training.contains { $0.artist == prompt.artist && $0.genre == prompt.genre }, "the genre's own artist")
            XCTAssertGreaterThanOrEqual(prompt.seed, 101)
        }
        // A set that names its artists' genres is asked with its own artists, whatever corpus trains the
        // judge (one of another seed has artists the model never heard of).
        var genresOfArtists: [String: String] = [:]
        for (i, genre) in GenreStyle.all.map(\.name).enumerated() { genresOfArtists[RandomModelSet.artists[i]] = genre }
        try SamplingDefaults(top: 0.98, upsamplers: 0.99, artistGenres: genresOfArtists).json
            .write(to: URL(fileURLWithPath: dir + "/set/sampling.json"))
        let own = try CLI.run(["eval", "genre", "--data", corpus, "--model", dir + "/set", "--sample-per-genre", "1",
                               "--seconds", "1", "--seed", "201", "--sessions-out", dir + "/own", "--json"])
        XCTAssertEqual(own.status, 0, own.stderr)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/own") {
            let prompt = try SessionFolder.open(dir + "/own/" + name).1.prompt
            XCTAssertEqual(genresOfArtists[prompt.artist], prompt.genre, "the set's own artist of \(prompt.genre), not \(prompt.artist)")
        }
        // Their artists are not the corpus's, so a clip's tempo is the one its session's bar clock kept.
        let ownSessions = try FileManager.default.contentsOfDirectory(atPath: dir + "/own").sorted().prefix(2).map { dir + "/own/" + $0 }
        let untimed = try CLI.run(["eval", "genre", "--data", corpus, "--json"] + ownSessions)
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(untimed.stdout.utf8)) as? [String: Any])?["tempo"] as? [String: Any])?["clips"] as? Int,
                       0, "no tempo to hold them to: \(untimed.stdout)")
        for session in ownSessions {
            var document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: session + "/session.json"))) as? [String: Any])
            var prompt = try XCTUnwrap(document["prompt"] as? [String: Any])
            prompt["bpm"] = 120
            document["prompt"] = prompt
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: session + "/session.json"))
        }
        let timed = try CLI.run(["eval", "genre", "--data", corpus, "--json"] + ownSessions)
        XCTAssertEqual(timed.status, 0, timed.stderr)
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(timed.stdout.utf8)) as? [String: Any])?["tempo"] as? [String: Any])?["clips"] as? Int,
                       2, timed.stdout)
        assertCleanFailure(try CLI.run(["eval", "genre", "--data", corpus, "--prompts", "odd", "--sample-per-genre", "1",
                                        "--sessions-out", dir + "/odd"]), naming: "--prompts")
        // Tuning one weak genre: only the genres named are sampled, seeds counting up over them.
        let two = try CLI.run(["eval", "genre", "--data", corpus, "--model", dir + "/set", "--sample-per-genre", "2", "--seconds", "1",
                               "--seed", "301", "--only-genre", "blues", "--only-genre", "jazz", "--sessions-out", dir + "/two", "--json"])
        XCTAssertEqual(two.status, 0, two.stderr)
        var twoSeeds: [String: [UInt64]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/two") {
            let prompt = try SessionFolder.open(dir + "/two/" + name).1.prompt
            twoSeeds[prompt.genre, default: []].append(prompt.seed)
        }
        XCTAssertEqual(twoSeeds.mapValues { $0.sorted() }, ["blues": [301, 302], "jazz": [303, 304]])
        assertCleanFailure(try CLI.run(["eval", "genre", "--data", corpus, "--only-genre", "polka", "--sample-per-genre", "1",
                                        "--sessions-out", dir + "/polka"]), naming: "polka")

        assertCleanFailure(try CLI.run(["eval", "genre", "--data", dir + "/nothing"]), naming: dir + "/nothing/songs.jsonl")
        assertCleanFailure(try CLI.run(["eval", "genre", "--data", corpus, dir + "/set"]), naming: dir + "/set")
    }

    func testTheSameSeedGivesTheSameCorpus() throws {
        try requireRenderers()
        let dir = temporaryFolder(self)
        for name in ["a", "b"] {
            let r = try CLI.run(["dataset", "build", "--out", dir + "/" + name, "--seed", "9", "--minutes", "0.1"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let a = try songs(dir + "/a"), b = try songs(dir + "/b")
        XCTAssertEqual(a, b)
        for song in a {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/" + song.file),
                           FileManager.default.contents(atPath: dir + "/b/" + song.file), song.file)
        }
    }

    func testBadRequestsFailCleanly() throws {
        let dir = temporaryFolder(self)
        try "keep me".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["dataset", "build", "--out", dir, "--minutes", "0.2"]), naming: dir)
        XCTAssertEqual(try String(contentsOfFile: dir + "/notes.txt", encoding: .utf8), "keep me")
        assertCleanFailure(try CLI.run(["dataset", "build", "--out", dir + "/x", "--minutes", "0.2",
                                        "--soundfont", dir + "/none.sf2"]), naming: dir + "/none.sf2")
        assertCleanFailure(try CLI.run(["dataset", "build", "--out", dir + "/y", "--minutes=-1"]), naming: "--minutes")
        let noTools = try CLI.run(["dataset", "build", "--out", dir + "/z", "--minutes", "0.2", "--soundfont", dir + "/notes.txt"],
                                  environment: ["PATH": dir])
        assertCleanFailure(noTools, naming: "fluidsynth")
        XCTAssertTrue(noTools.stderr.contains("install"), noTools.stderr)
        for o in ["x", "y", "z"] { XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + o), o) }
    }
}

/// FluidSynth, its soundfont and espeak-ng come from Debian packages; CI installs them. Tests that build
/// a corpus skip without them, and fail under CI.
func requireCorpusRenderers() throws {
    let missing = ["fluidsynth", "espeak-ng"].filter { tool in
        !(ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    } + (FileManager.default.fileExists(atPath: DatasetCommandTests.soundfont) ? [] : [DatasetCommandTests.soundfont])
    guard missing.isEmpty else {
        if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("missing under CI: \(missing)") }
        throw XCTSkip("corpus renderers missing: \(missing.joined(separator: ", "))")
    }
}
