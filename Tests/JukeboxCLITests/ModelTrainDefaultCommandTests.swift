import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining
import XCTest

/// `jukebox model train-default` end to end at test scale: an 8-song corpus, every stage for a few steps,
/// a model set that loads and samples with the corpus's own genre and artist names, a model card with
/// numbers in it, and a rerun that finds every stage done.
final class ModelTrainDefaultCommandTests: XCTestCase {
    func testTinyRecipeTrainsALoadableSetThatSamples() throws {
        try requireCorpusRenderers()
        let dir = temporaryFolder(self)
        let built = try CLI.run(["dataset", "build", "--out", dir + "/corpus", "--seed", "1", "--minutes", "0.1",
                                 "--artists-per-genre", "1"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let recipe = ["model", "train-default", "--corpus", dir + "/corpus", "--work", dir + "/work", "-o", dir + "/set",
                      "--scale", "tiny", "--log-every", "1"]
        let r = try CLI.run(recipe + ["--budget-minutes", "5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for stage in ["vqvae", "prior_level_2", "prior_level_1", "prior_level_0"] {
            XCTAssertTrue(r.stderr.contains("saved \(dir)/work/\(stage) at step 3"), r.stderr)
        }
        // The codec's level 0 is trained again wider on its own; the set ships it with the first codec's
        // levels 1 and 2 unchanged (their codes are what the priors learnt).
        XCTAssertTrue(r.stderr.contains("vqvae-level0: 2 steps on from vqvae"), r.stderr)
        XCTAssertTrue(r.stderr.contains("saved \(dir)/work/vqvae-level0 at step 2"), r.stderr)
        let shippedCodec = try ModelConfig.load(folder: dir + "/set/vqvae").hps
        XCTAssertEqual(try shippedCodec.ints("hvqvae_multipliers"), [3, 1, 1])
        let firstCodec = try SafetensorsFile(path: dir + "/work/vqvae/weights.safetensors")
        let codec = try SafetensorsFile(path: dir + "/set/vqvae/weights.safetensors")
        let kept = codec.names.filter { name in
            ["encoders.", "decoders.", "bottleneck.level_blocks."].contains { name.hasPrefix($0 + "1.") || name.hasPrefix($0 + "2.") }
        }
        XCTAssertFalse(kept.isEmpty)
        for name in kept { XCTAssertEqual(try codec.tensor(name).toArray(), try firstCodec.tensor(name).toArray(), name) }
        let level0 = try XCTUnwrap(codec.names.first { $0.hasPrefix("encoders.0.") })
        XCTAssertNotEqual(try codec.entry(level0).shape, try firstCodec.entry(level0).shape, level0)
        // The bottom upsampler's second round grows it by a layer, and the set ships the deeper one.
        XCTAssertTrue(r.stderr.contains("prior_level_0-round2: 2 steps on from prior_level_0, grown to 4 layers"), r.stderr)
        XCTAssertEqual(try ModelConfig.load(folder: dir + "/work/prior_level_0").hps.int("prior_depth"), 3)
        XCTAssertEqual(try ModelConfig.load(folder: dir + "/set/prior_level_0").hps.int("prior_depth"), 4)
        // Each round of the top prior starts from the last one's weights; the third moves it to a longer
        // window, the fourth gives it a bar clock, and that is what the set ships.
        XCTAssertTrue(r.stderr.contains("prior_level_2-round2: 2 steps on from prior_level_2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("saved \(dir)/work/prior_level_2-round2 at step 2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("prior_level_2-round3: 2 steps on from prior_level_2-round2"), r.stderr)
        let firstRound = try Data(contentsOf: URL(fileURLWithPath: dir + "/work/prior_level_2/weights.safetensors"))
        let secondRound = try Data(contentsOf: URL(fileURLWithPath: dir + "/work/prior_level_2-round2/weights.safetensors"))
        XCTAssertTrue(r.stderr.contains("prior_level_2-round4: 2 steps on from prior_level_2-round3, with a bar clock of 16 places"), r.stderr)
        let fourthRound = try Data(contentsOf: URL(fileURLWithPath: dir + "/work/prior_level_2-round4/weights.safetensors"))
        XCTAssertNotEqual(firstRound, secondRound)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/set/prior_level_2/weights.safetensors")), fourthRound)
        XCTAssertEqual(try ModelConfig.load(folder: dir + "/work/prior_level_2-round2").hps.int("n_ctx"), 128)
        let shipped = try ModelConfig.load(folder: dir + "/set/prior_level_2").hps
        XCTAssertEqual(try shipped.int("n_ctx"), 208)
        XCTAssertEqual(try shipped.int("blocks"), 3)
        XCTAssertEqual(try shipped.int("bs"), 1)
        XCTAssertEqual(try shipped.int("bar_clock_bins"), 16)
        // The clock's table learnt from the code files' bar clocks: it left zero in its two steps.
        let clockTable = try SafetensorsFile(path: dir + "/set/prior_level_2/weights.safetensors").tensor(PriorBarClock.tableKey).toArray()
        XCTAssertEqual(clockTable.count, 16 * 64)
        XCTAssertTrue(clockTable.contains { $0 != 0 })
        let codeFile = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: dir + "/work/codes-train").sorted().first)
        XCTAssertEqual(try CodesFile.read(dir + "/work/codes-train/" + codeFile, "bar_clock").t, 2)

        // The set loads whole, with the corpus's label lists in every prior.
        let set = try ModelSet.load(dir + "/set")
        XCTAssertEqual(set.priors.keys.sorted(), [0, 1, 2])
        let corpusGenres = try String(contentsOfFile: dir + "/corpus/genre_ids.txt", encoding: .utf8)
        for level in 0...2 {
            let copied = try String(contentsOfFile: dir + "/set/prior_level_\(level)/genre_ids.txt", encoding: .utf8)
            XCTAssertEqual(copied, corpusGenres)
        }

        // The model card: held-out VQ-VAE figures per level and bits per token beside the baselines.
        let cardData = try Data(contentsOf: URL(fileURLWithPath: dir + "/set/model-card.json"))
        let card = try XCTUnwrap(JSONSerialization.jsonObject(with: cardData) as? [String: Any])

        // The alignment prior: the shipped top prior taught on the sung training songs, its head chosen and
        // written, shipped beside it and measured on the held-out songs in the card; the top prior unchanged.
        XCTAssertTrue(r.stderr.contains("alignment_prior: 2 steps on from prior_level_2-round4"), r.stderr)
        XCTAssertTrue(r.stderr.contains("guiding layer 15 head 0 toward the sung words"), r.stderr)
        XCTAssertTrue(r.stderr.contains("wrote alignment_layer"), r.stderr)
        let aligner = try XCTUnwrap(set.alignmentPrior)
        XCTAssertEqual(try aligner.hps.int("n_ctx"), 208)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/set/alignment_prior/weights.safetensors")), fourthRound)
        let alignmentCard = try XCTUnwrap(card["alignment"] as? [String: Any])
        XCTAssertEqual(alignmentCard["layer"] as? Int, try aligner.hps.int("alignment_layer"))
        XCTAssertTrue(alignmentCard["alignment"] != nil || alignmentCard["note"] != nil, "\(alignmentCard)")
        XCTAssertGreaterThan((card["weights_bytes"] as? [String: Int])?[AlignmentPrior.folderName] ?? 0, 0)
        let vqvae = try XCTUnwrap(card["vqvae"] as? [String: Any])
        XCTAssertEqual((vqvae["held_out"] as? [[String: Any]])?.count, 3)
        let heldOutSongs = try XCTUnwrap(vqvae["held_out_songs"] as? [[String: Any]])
        XCTAssertEqual(heldOutSongs.compactMap { $0["level"] as? Int }, [0, 1, 2])
        for level in heldOutSongs {
            XCTAssertTrue((level["snr_db"] as? Double ?? .nan).isFinite, "\(level)")
            XCTAssertGreaterThan(level["spectral_convergence"] as? Double ?? -1, 0, "\(level)")
        }
        let priors = try XCTUnwrap(card["priors"] as? [[String: Any]])
        XCTAssertEqual(priors.compactMap { $0["level"] as? Int }, [2, 1, 0])
        for p in priors {
            let bits = try XCTUnwrap(p["bits_per_token"] as? Double), unigram = try XCTUnwrap(p["unigram_bits_per_token"] as? Double)
            XCTAssertTrue(bits.isFinite && bits > 0 && unigram.isFinite && unigram > 0, "\(p)")
            XCTAssertEqual(p["uniform_bits_per_token"] as? Double ?? 0, log2(64), accuracy: 1e-9)
            // What the conditions are worth: the level above for the upsamplers only, labels for all.
            let level = p["level"] as? Int ?? -1
            XCTAssertEqual(p["bits_with_other_above"] == nil, level == 2, "\(p)")
            XCTAssertTrue((p["bits_with_other_labels"] as? Double ?? .nan).isFinite, "\(p)")
        }
        XCTAssertGreaterThan(card["weights_bytes_total"] as? Int ?? 0, 0)
        let corpusFacts = try XCTUnwrap(card["corpus"] as? [String: Any])
        XCTAssertEqual(corpusFacts["build"] as? String, "jukebox dataset build --seed 1 --minutes 0.1 --artists-per-genre 1")
        XCTAssertNotNil((card["stages"] as? [String: Any])?["prior_level_2-round2"])
        XCTAssertEqual(((card["stages"] as? [String: Any])?["prior_level_2-round3"] as? [String: Any])?["n_ctx"] as? Int, 208)

        // `eval prior` scores what the card holds, on the same windows.
        let evaluated = try CLI.run(["eval", "prior", "--prior", dir + "/set/prior_level_1", "--train", dir + "/work/codes-train",
                                     "--test", dir + "/work/codes-test", "--windows", "2", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let scored = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any], evaluated.stdout)
        let carded = try XCTUnwrap(priors.first { $0["level"] as? Int == 1 })
        for key in ["bits_per_token", "bits_with_other_above", "bits_with_other_labels", "unigram_bits_per_token"] {
            XCTAssertEqual(scored[key] as? Double ?? .nan, carded[key] as? Double ?? 0, accuracy: 1e-9, key)
        }
        let scoredTable = try CLI.run(["eval", "prior", "--prior", dir + "/set/prior_level_1", "--train", dir + "/work/codes-train",
                                       "--test", dir + "/work/codes-test", "--windows", "2"])
        XCTAssertTrue(scoredTable.stdout.contains("another window's level above"), scoredTable.stdout)
        assertCleanFailure(try CLI.run(["eval", "prior", "--prior", dir + "/set/prior_level_1", "--train", dir + "/work/codes-train",
                                        "--test", dir + "/nowhere"]), naming: dir + "/nowhere")

        // `eval vqvae` measures what the card holds.
        let measured = try CLI.run(["eval", "vqvae", "--vqvae", dir + "/set/vqvae", "--data", dir + "/corpus", "--json"])
        XCTAssertEqual(measured.status, 0, measured.stderr)
        let levels = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(measured.stdout.utf8)) as? [[String: Any]], measured.stdout)
        XCTAssertEqual(levels.count, 3)
        for (a, b) in zip(levels, heldOutSongs) {
            XCTAssertEqual(a["snr_db"] as? Double ?? .nan, b["snr_db"] as? Double ?? 0, accuracy: 1e-9)
            XCTAssertEqual(a["spectral_convergence"] as? Double ?? .nan, b["spectral_convergence"] as? Double ?? 0, accuracy: 1e-9)
        }
        let table = try CLI.run(["eval", "vqvae", "--vqvae", dir + "/set/vqvae", "--data", dir + "/corpus"])
        XCTAssertEqual(table.stdout.split(separator: "\n").count, 4, table.stdout)

        // It samples with the corpus's names (a two-word genre included).
        let songs = try String(contentsOfFile: dir + "/corpus/songs.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(CorpusSong.self, from: Data($0.utf8)) }
        let song = try XCTUnwrap(songs.first { $0.genre.contains(" ") } ?? songs.first)
        let sample = try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                  "--seconds", "1", "-o", dir + "/session"])
        XCTAssertEqual(sample.status, 0, sample.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/session/render-level0-sample0.wav"), sample.stderr)
        // The set's own sampling defaults: the recipe's temperatures, the corpus's mean song length.
        let defaults = try XCTUnwrap(set.sampling)
        let meanSeconds = songs.reduce(0) { $0 + $1.seconds } / Double(songs.count)
        XCTAssertEqual(defaults.songSeconds, meanSeconds.rounded())
        // The corpus's instrumental artists, so that asking one of them to sing is noted.
        let instrumental = Set(songs.map(\.artist)).filter { a in songs.allSatisfy { $0.artist != a || $0.lyrics.isEmpty } }
        XCTAssertEqual(defaults.instrumentalArtists, instrumental)
        let document = try SessionFolder.open(dir + "/session").1
        XCTAssertEqual(document.prompt.temperatures, set.defaultTemperatures)
        XCTAssertEqual(set.defaultTemperatures.first, 1, "the recipe samples level 0 at its own temperature")
        XCTAssertEqual(document.prompt.totalSeconds, max(meanSeconds.rounded(), 1))
        // The bar clock keeps the artist's tempo from the corpus unless told another (that another tempo
        // draws other codes is SamplingGeneratorTests' to show: two steps leave this table near zero).
        XCTAssertEqual(defaults.artistTempos[song.artist], song.bpm)
        XCTAssertEqual(document.prompt.bpm, song.bpm)
        /// A second of the song's artist at the top level with one option more: the prompt its session recorded.
        func sampled(_ option: String, _ value: String, into name: String) throws -> SessionPrompt {
            let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                 "--seconds", "1", "--levels", "top", option, value, "-o", dir + "/" + name])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try SessionFolder.open(dir + "/" + name).1.prompt
        }
        XCTAssertEqual(try sampled("--bpm", "173", into: "faster").bpm, 173)
        // The set's bar guide, counted from the training codes, steers sampling by default at the recipe's
        // strength; --bar-guidance 0 turns it off, and the session says which.
        let guide = try XCTUnwrap(set.barGuide)
        XCTAssertEqual([guide.artists, guide.bins, guide.codes], [set.priors[2]!.prior.config.yBins[1], 16, 64])
        XCTAssertEqual(defaults.barGuidance, 1)
        XCTAssertEqual(document.prompt.barGuidance, 1)
        XCTAssertEqual(try sampled("--bar-guidance", "0", into: "unguided").barGuidance, 0, "recorded off, so reopening keeps it off")
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                        "--seconds", "1", "--bar-guidance", "11", "-o", dir + "/overdone"]), naming: "--bar-guidance")
        // The guide also holds each genre's tilt, used by default at the recipe's strength, off with 0.
        XCTAssertEqual(guide.genres, set.priors[2]!.prior.config.yBins[0])
        XCTAssertFalse(try XCTUnwrap(guide.genreRow(genre: try set.vocabularies[2]!.genreIDs(song.genre, maxBowGenreSize: 1).ids[0])).allSatisfy { $0 == 0 },
                       "the song's genre has songs to count")
        XCTAssertGreaterThan(defaults.genreGuidance, 0)
        XCTAssertEqual(document.prompt.genreGuidance, defaults.genreGuidance)
        XCTAssertEqual(try sampled("--genre-guidance", "0", into: "ungenred").genreGuidance, 0, "recorded off, so reopening keeps it off")
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                        "--seconds", "1", "--genre-guidance", "-1", "-o", dir + "/negative"]), naming: "--genre-guidance")
        // Continuing a prime, the bars follow the beat heard in it: a click track at 100 bpm from 0.25 s.
        var clicks = [Float](repeating: 0, count: 3 * 44100)
        for beat in stride(from: 0.25 * 44100, to: Double(clicks.count - 300), by: 0.6 * 44100) {
            for i in 0..<300 { clicks[Int(beat) + i] = i % 2 == 0 ? 0.8 : -0.8 }
        }
        try AudioFile.writeWAV(dir + "/clicks.wav", samples: clicks, sampleRate: 44100)
        let primed = try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist, "--mode", "primed",
                                  "--prime", dir + "/clicks.wav", "--prime-seconds", "2.5", "--seconds", "3", "--levels", "top",
                                  "--prime-guidance", "2", "-o", dir + "/primed"])
        XCTAssertEqual(primed.status, 0, primed.stderr)
        XCTAssertTrue(primed.stderr.contains("bars from its beat at 0.2"), primed.stderr)
        let primedTempo = try XCTUnwrap(try SessionFolder.open(dir + "/primed").1.prompt.bpm)
        XCTAssertTrue(AudioFeatures.tempo(primedTempo, matches: 100), "\(primedTempo)")
        let primedBar = try XCTUnwrap(try SessionFolder.open(dir + "/primed").1.prompt.downbeat)
        XCTAssertEqual(primedBar, 0.25, accuracy: 0.035)
        // Continuing that session keeps its tempo and bars.
        let further = try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist, "--mode", "continue",
                                   "--session", dir + "/primed", "--seconds", "4", "--levels", "top", "-o", dir + "/further"])
        XCTAssertEqual(further.status, 0, further.stderr)
        let continued = try SessionFolder.open(dir + "/further").1.prompt
        XCTAssertEqual(continued.bpm, primedTempo)
        XCTAssertEqual(continued.downbeat, primedBar)
        // And the prime's own guide, asked for in the primed sample, recorded and kept by the continue.
        XCTAssertEqual(try SessionFolder.open(dir + "/primed").1.prompt.primeGuidance, 2)
        XCTAssertEqual(continued.primeGuidance, 2)
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                        "--seconds", "1", "--prime-guidance", "nan", "-o", dir + "/nanprime"]), naming: "--prime-guidance")
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                        "--seconds", "1", "--downbeat=-1", "-o", dir + "/early"]), naming: "--downbeat")
        let counted = try CLI.run(["train", "bar-guide", "--data", dir + "/work/codes-train", "--prior", dir + "/set/prior_level_2",
                                   "--bins", "16", "-o", dir + "/guide.safetensors"])
        XCTAssertEqual(counted.status, 0, counted.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/guide.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/set/" + BarGuide.fileName)), "the command counts what the recipe ships")
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", song.genre, "--artist", song.artist,
                                        "--seconds", "1", "--bpm", "0", "-o", dir + "/nobeat"]), naming: "bpm")

        // The card's genre judge: one clip per training genre sampled with the finished set (its sessions kept
        // in WORK), judged by the classifier that has heard the corpus through the set's VQ-VAE.
        let judge = try XCTUnwrap(card["genre_judge"] as? [String: Any])
        let trainGenres = Set(songs.filter { $0.split == "train" }.map(\.genre))
        let samples = try XCTUnwrap(judge["samples"] as? [String: Any])
        XCTAssertEqual(samples["count"] as? Int, trainGenres.count)
        XCTAssertEqual((samples["confusion"] as? [[Int]])?.joined().reduce(0, +), trainGenres.count)
        let probability = try XCTUnwrap(samples["intended_probability"] as? Double)
        XCTAssertTrue(probability > 0 && probability < 1, "\(probability)")
        XCTAssertEqual((judge["held_out_reconstructed"] as? [String: Any])?.count, 3)
        let made = try FileManager.default.contentsOfDirectory(atPath: dir + "/work/genre-judge-sessions")
        XCTAssertEqual(made.count, trainGenres.count, "\(made)")
        for genre in trainGenres {
            let folder = dir + "/work/genre-judge-sessions/" + genre.replacingOccurrences(of: " ", with: "_") + "-1"
            XCTAssertEqual(try SessionFolder.open(folder).1.prompt.genre, genre)
        }
        assertCleanFailure(try CLI.run(["eval", "genre", "--data", dir + "/corpus", "--sample-per-genre", "1"]), naming: "--sessions-out")
        try scoreOwnSamples(set: set, work: dir + "/work", sessions: made.map { dir + "/work/genre-judge-sessions/" + $0 })
        try judgeWithTheCodec(corpus: dir + "/corpus", set: dir + "/set", sessions: made.map { dir + "/work/genre-judge-sessions/" + $0 },
                              heldOut: songs.filter { $0.split == "test" }.count)
        try continueHeldOutSongs(corpus: dir + "/corpus", set: dir + "/set", scratch: dir, songs: songs)

        // Run again: every stage is recorded as done, nothing is trained, the set is written again.
        let again = try CLI.run(recipe)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("prior_level_0: done earlier, skipped"), again.stderr)
        XCTAssertTrue(again.stderr.contains("genre judge: done earlier for this set, skipped"), again.stderr)
        let rewritten = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/set/model-card.json"))) as? [String: Any])
        XCTAssertEqual((rewritten["genre_judge"] as? [String: Any])?["set_digest"] as? String, judge["set_digest"] as? String)
        XCTAssertFalse(again.stderr.contains("step 1/3"), again.stderr)
        XCTAssertNoThrow(try ModelSet.load(dir + "/set"))
    }

    /// The set's own samples scored by its top prior under the prompts they were drawn with: windows
    /// labelled with the prompt's artist and genre and its planned song length, then `eval prior` on them.
    func scoreOwnSamples(set: ModelSet, work: String, sessions: [String]) throws {
        let top = try XCTUnwrap(set.priors[2])
        let vocabulary = try XCTUnwrap(set.vocabularies[2])
        let data = try PriorTrainingData(sessions: sessions, vocabulary: vocabulary, hps: top.hps)
        XCTAssertEqual(data.count, sessions.count)
        let prompts = try sessions.map { try SessionFolder.open($0).1.prompt }
        let artistIDs = Set(prompts.map { vocabulary.artistID($0.artist).0 })
        XCTAssertFalse(artistIDs.contains(0), "\(artistIDs)")
        for index in 0..<4 {
            let y = try XCTUnwrap(try data.batch(index: index, size: 1, seed: 3).y)
            XCTAssertEqual(y[0], Int(prompts[0].totalSeconds * 44100), "the timing signal is the planned song's length")
            XCTAssertTrue(artistIDs.contains(y[3]), "\(y.prefix(5))")
        }
        let scored = try CLI.run(["eval", "prior", "--prior", set.folder + "/prior_level_2", "--train", work + "/codes-train",
                                  "--windows", "2", "--json"] + sessions)
        XCTAssertEqual(scored.status, 0, scored.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any], scored.stdout)
        for key in ["bits_per_token", "bits_with_other_labels"] {
            XCTAssertTrue((report[key] as? Double ?? .nan).isFinite, "\(key): \(report)")
        }
        assertCleanFailure(try CLI.run(["eval", "prior", "--prior", set.folder + "/prior_level_2", "--train", work + "/codes-train"]),
                           naming: "--test")
        assertCleanFailure(try CLI.run(["eval", "prior", "--prior", set.folder + "/prior_level_2", "--train", work + "/codes-train",
                                        "--test", work + "/codes-test"] + sessions), naming: "--test")
    }

    /// `eval continuation`: each genre's first held-out song continued by the set from its first seconds,
    /// the beat measured over the prime and stretch by stretch after it, beside the song's own.
    func continueHeldOutSongs(corpus: String, set: String, scratch dir: String, songs: [CorpusSong]) throws {
        let command = ["eval", "continuation", "--data", corpus, "--model", set, "--prime-seconds", "2", "--seconds", "8.5",
                       "--stretch", "3", "--sessions-out", dir + "/continued"]
        let r = try CLI.run(command + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let continued = try XCTUnwrap(report["songs"] as? [[String: Any]], r.stdout)
        let heldOut = songs.filter { $0.split == "test" }
        let expected = Set(heldOut.map(\.genre)).sorted().map { genre in heldOut.first { $0.genre == genre }! }
        XCTAssertEqual(continued.compactMap { $0["id"] as? String }, expected.map(\.id))
        for (entry, song) in zip(continued, expected) {
            XCTAssertEqual(entry["bpm"] as? Double, song.bpm)
            let prime = try XCTUnwrap(entry["prime"] as? [String: Any])
            XCTAssertEqual([prime["start"] as? Double, prime["end"] as? Double], [0, 2])
            // Stretches of 3 s from the prime's end; the last half second is too short to measure.
            let after = try XCTUnwrap(entry["continuation"] as? [[String: Any]])
            XCTAssertEqual(after.compactMap { $0["start"] as? Double }, [2, 5])
            XCTAssertEqual(after.compactMap { $0["end"] as? Double }, [5, 8])
            for stretch in after + [prime] {
                XCTAssertTrue((-1...1).contains(stretch["strength"] as? Double ?? .nan), "\(stretch)")
                XCTAssertTrue((60...200).contains(stretch["bpm"] as? Double ?? 0), "\(stretch)")
            }
            let own = try XCTUnwrap(entry["song"] as? [String: Any])
            XCTAssertEqual([own["start"] as? Double, own["end"] as? Double], [2, 8.5])
            // The session is a primed continuation of that song, with its labels.
            let document = try SessionFolder.open(try XCTUnwrap(entry["session"] as? String)).1
            XCTAssertEqual(document.prompt.genre, song.genre)
            XCTAssertEqual(document.prompt.artist, song.artist)
            // Its sound beside the song's own and an unprimed sample's (a session of its own).
            let sound = try XCTUnwrap(entry["sound"] as? [String: Any])
            for key in ["continuation_balance_distance_db", "song_balance_distance_db", "unprimed_balance_distance_db"] {
                XCTAssertTrue((0..<60).contains(sound[key] as? Double ?? -1), "\(key): \(sound)")
            }
            let unprimed = try SessionFolder.open(try XCTUnwrap(entry["session"] as? String) + "-unprimed").1
            XCTAssertEqual(unprimed.prompt.mode, .ancestral)
            XCTAssertEqual(unprimed.prompt.artist, song.artist)
        }
        // The corpus's songs keep their tempo over the continued span.
        let summary = try XCTUnwrap(report["summary"] as? [String: Any])
        XCTAssertEqual(summary["continuation_stretches"] as? Int, 2 * expected.count)
        XCTAssertGreaterThan(summary["song_strength"] as? Double ?? 0, 0.3, r.stdout)
        XCTAssertEqual(summary["song_at_tempo"] as? Int, expected.count, r.stdout)

        // The sessions are kept: a second run into the same folder is refused before it samples.
        assertCleanFailure(try CLI.run(command), naming: dir + "/continued/" + expected[0].id)
        // The sampler's settings reach the sessions.
        let table = try CLI.run(command.dropLast() + [dir + "/continued-again", "--temp-top", "0.5", "--top-p", "0.9", "--no-unprimed"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let again = try SessionFolder.open(dir + "/continued-again/" + expected[0].id).1
        XCTAssertEqual(again.prompt.temperatures.last, 0.5, "index = level: the top is last")
        XCTAssertEqual(again.prompt.topP, 0.9)
        let header = try XCTUnwrap(table.stdout.split(separator: "\n").dropFirst().first)
        XCTAssertEqual(header.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) },
                       ["song", "genre", "bpm", "song itself", "0-2 s (prime)", "2-5 s", "5-8 s"], table.stdout)
        XCTAssertTrue(table.stdout.contains("beat strength: prime"), table.stdout)
        XCTAssertTrue(table.stdout.contains("spectral balance, distance from the prime's (dB): continuation"), table.stdout)
        assertCleanFailure(try CLI.run(["eval", "continuation", "--data", corpus, "--model", set, "--prime-seconds", "2",
                                        "--seconds", "4", "--sessions-out", dir + "/x"]), naming: "--seconds")
        assertCleanFailure(try CLI.run(["eval", "continuation", "--data", corpus, "--model", set, "--seconds", "600",
                                        "--sessions-out", dir + "/x"]), naming: corpus)
    }

    /// A judge that has heard the codec: it also learns from the corpus as the set's VQ-VAE rebuilds it at
    /// each level, is checked on the held-out songs so rebuilt, and keeps those features for next time.
    func judgeWithTheCodec(corpus: String, set: String, sessions: [String], heldOut: Int) throws {
        let first = try CLI.run(["eval", "genre", "--data", corpus, "--codec", set, "--json"] + sessions)
        XCTAssertEqual(first.status, 0, first.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let rebuilt = try XCTUnwrap(report["held_out_reconstructed"] as? [String: [String: Any]], first.stdout)
        let levels = try VQVAE(folder: set + "/vqvae").levels
        XCTAssertEqual(Set(rebuilt.keys), Set((0..<levels).map { "level \($0)" }))
        XCTAssertEqual(rebuilt.values.compactMap { $0["count"] as? Int }, Array(repeating: heldOut, count: levels))
        XCTAssertEqual((report["samples"] as? [String: Any])?["count"] as? Int, sessions.count)
        // Whether each clip keeps its artist's tempo, beside the held-out songs.
        let tempo = try XCTUnwrap(report["tempo"] as? [String: Any], first.stdout)
        XCTAssertEqual(tempo["clips"] as? Int, sessions.count)
        XCTAssertEqual(tempo["held_out_songs"] as? Int, heldOut)
        XCTAssertLessThanOrEqual(tempo["at_artist_tempo"] as? Int ?? .max, sessions.count)
        XCTAssertLessThanOrEqual(tempo["held_out_at_tempo"] as? Int ?? .max, heldOut)
        // The corpus's songs have a steady beat: their onset envelopes repeat strongly.
        XCTAssertGreaterThan(tempo["held_out_beat_strength"] as? Double ?? 0, 0.3, first.stdout)
        XCTAssertTrue((-1...1).contains(tempo["beat_strength"] as? Double ?? .nan), first.stdout)
        let cache = corpus + "/judge-cache"
        let kept = try FileManager.default.contentsOfDirectory(atPath: cache)
        XCTAssertEqual(kept.count, 1, "\(kept)")
        // Read back, the kept features give the same judgement; a damaged cache is made again.
        let again = try CLI.run(["eval", "genre", "--data", corpus, "--codec", set + "/vqvae", "--json"] + sessions)
        XCTAssertEqual(again.stdout, first.stdout)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: cache + "/" + kept[0]))
        let mended = try CLI.run(["eval", "genre", "--data", corpus, "--codec", set, "--json"] + sessions)
        XCTAssertEqual(mended.stdout, first.stdout, mended.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cache + "/" + kept[0]))))
        let table = try CLI.run(["eval", "genre", "--data", corpus, "--codec", set] + sessions)
        XCTAssertTrue(table.stdout.contains("held-out songs reconstructed from level 0 alone"), table.stdout)
        XCTAssertTrue(table.stdout.contains("clips repeat at their artist's tempo"), table.stdout)
        assertCleanFailure(try CLI.run(["eval", "genre", "--data", corpus, "--codec", corpus + "/nowhere"]), naming: corpus + "/nowhere")
    }

    /// An interrupted stage (here: a prior checkpoint left without its recipe entry) is resumed, not restarted.
    func testRerunResumesAStageLeftUnfinished() throws {
        try requireCorpusRenderers()
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["dataset", "build", "--out", dir + "/corpus", "--seed", "2", "--minutes", "0.1",
                                    "--artists-per-genre", "1"]).status, 0)
        let recipe = ["model", "train-default", "--corpus", dir + "/corpus", "--work", dir + "/work", "-o", dir + "/set",
                      "--scale", "tiny", "--log-every", "1"]
        XCTAssertEqual(try CLI.run(recipe).status, 0)
        // Forget that the top prior and what follows finished, as if the run had died inside that stage.
        let progressPath = dir + "/work/recipe.json"
        var progress = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: progressPath))) as? [String: Any])
        var stages = try XCTUnwrap(progress["stages"] as? [String: Any])
        for stage in ["prior_level_2", "prior_level_2-round2", "prior_level_2-round3", "prior_level_1", "prior_level_0"] { stages[stage] = nil }
        progress["stages"] = stages
        try JSONSerialization.data(withJSONObject: progress).write(to: URL(fileURLWithPath: progressPath))
        let again = try CLI.run(recipe)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("resuming at step 3 from \(dir)/work/prior_level_2"), again.stderr)
        XCTAssertTrue(again.stderr.contains("vqvae: done earlier, skipped"), again.stderr)
    }
}
