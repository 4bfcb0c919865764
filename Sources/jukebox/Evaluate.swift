import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox eval ...`: measurements for the model card.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure models: can a listener's stand-in hear the genre asked for?",
        subcommands: [EvaluateGenre.self, EvaluateContinuation.self, EvaluateVQVAE.self, EvaluatePrior.self, EvaluateAlignment.self])
}

struct EvaluateGenre: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genre",
        abstract: "Train a genre classifier on a corpus, check it on the held-out songs, then judge sample sessions.",
        discussion: """
            The classifier (softmax regression over timbre, dynamics and rhythm features of 5-second \
            segments) learns from the corpus's training songs. Each SESSION is a folder written by \
            `jukebox sample`: its WAVs from the finest level rendered are judged against the genre its \
            prompt asked for. With --sample-per-genre N it first samples N clips of every corpus genre \
            with a model set (the bundled one unless --model names another) into --sessions-out, the artist \
            and lyrics of the genre's training songs in turn, and judges those too. Prints confusion \
            matrices (truth down the side) and accuracies; chance is one over the number of genres. \
            With --codec the classifier also learns from the training songs as that VQ-VAE reconstructs \
            them at each level, so the codec's own sound is not taken for a genre; it is then also checked \
            on the held-out songs' reconstructions.
            """)

    @Option(help: "Corpus folder from `jukebox dataset build`.") var data: String
    @Flag(help: "Print JSON instead of tables.") var json = false
    @Option(name: .customLong("sample-per-genre"), help: "Also sample this many clips per corpus genre (one session each) and judge them.")
    var perGenre: Int = 0
    @Option(help: "Model set to sample with (default: the bundled model).") var model: String?
    @Option(help: "VQ-VAE folder (or a model set) whose reconstructions of the corpus the classifier also learns from.")
    var codec: String?
    @Option(help: "Seconds per sampled clip.") var seconds: Double = 10
    @Option(help: "Seed of the first sampled clip (the next ones count up).") var seed: UInt64 = 1
    @Option(name: .customLong("sessions-out"), help: "Folder for the sampled sessions (kept, to listen to).") var sessionsOut: String?
    @Option(help: "What sampled clips are asked for with: fresh (the genre's artists in turn, two new lines of lyrics each: what a user gets) or training (the training songs' artists and lyrics).")
    var prompts: String = "fresh"
    @Option(name: .customLong("only-genre"), help: "Sample only this corpus genre (repeat for several; seeds count up over the chosen ones).")
    var onlyGenres: [String] = []
    @Argument(help: "Session folders whose renders to judge.") var sessions: [String] = []

    /// The library's job with these options.
    var judge: GenreJudge {
        var judge = GenreJudge(corpus: data)
        (judge.codec, judge.model, judge.perGenre, judge.seconds, judge.seed) = (codec, model, perGenre, seconds, seed)
        (judge.sessionsOut, judge.sessions) = (sessionsOut, sessions)
        judge.prompts = GenreJudge.Prompts(rawValue: prompts) ?? .fresh
        judge.onlyGenres = onlyGenres
        return judge
    }

    /// Trains the judge, samples where asked, and judges every session.
    func measure() throws -> GenreJudge.Result {
        guard GenreJudge.Prompts(rawValue: prompts) != nil else {
            throw JukeboxError("--prompts", "is \(prompts); use fresh or training")
        }
        var bars: [String: Progress.Bar] = [:]
        return try judge.measure(log: Log.note, sampling: { SamplingProgress().show($0) }) { label, done, total in
            let bar = bars[label] ?? Progress.Bar(label, total: total)
            bars[label] = bar
            bar.update(done, unit: done == total && total == 1 ? "" : "songs")
        }
    }

    func run() throws {
        let (evaluation, samples, tempo, sound) = try measure()
        if json {
            print(String(decoding: try GenreReport(evaluation, samples: samples, tempo: tempo, sound: sound).encoded(), as: UTF8.self))
            return
        }
        let chance = 1 / Double(evaluation.classifier.genres.count)
        print(String(format: "held-out corpus songs: %d, accuracy %.1f%% (chance %.1f%%)", evaluation.heldOut.total,
                     100 * evaluation.heldOut.accuracy, 100 * chance))
        print(evaluation.heldOut.table())
        for (level, matrix) in evaluation.heldOutReconstructed.enumerated() {
            print(String(format: "held-out songs reconstructed from level %d alone: accuracy %.1f%%", level, 100 * matrix.accuracy))
        }
        if let samples {
            let m = samples.matrix, interval = m.interval95
            print(String(format: "\nsamples: %d clips, accuracy %.1f%% (%d of %d; 95%% interval %.0f–%.0f%%); the intended genre's probability %.3f (chance %.3f)",
                         m.total, 100 * m.accuracy, m.correct, m.total, 100 * interval.lower,
                         100 * interval.upper, samples.intendedProbability, chance))
            print(samples.matrix.table())
            for clip in samples.clips where clip.named != clip.intended {
                print(String(format: "misheard: %@ (%@ asked, heard as %@; %@ %.2f)", clip.file, clip.intended, clip.named,
                             clip.intended, clip.intended_probability))
            }
        }
        if let tempo {
            print(String(format: "tempo: %d of %d clips repeat at their artist's tempo, or half or double it (held-out songs' first %g s: %d of %d)",
                         tempo.at_artist_tempo, tempo.clips, seconds, tempo.held_out_at_tempo, tempo.held_out_songs))
            print(String(format: "beat strength (the onset envelope's autocorrelation at its tempo, 0 to 1): clips %.2f, held-out songs %.2f",
                         tempo.beat_strength, tempo.held_out_beat_strength))
        }
        if let sound, let clips = sound.high_band_flatness {
            print(String(format: "4-22 kHz flatness (0 harmonics, about 0.56 white noise): clips %.3f, held-out songs %@", clips,
                         sound.held_out_high_band_flatness.map { String(format: "%.3f", $0) } ?? "(no high band)"))
        }
    }

}

struct EvaluateVQVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqvae",
        abstract: "Reconstruct held-out songs from each level's codes: SNR, spectral convergence and high-band flatness per level.",
        discussion: """
            --data is a corpus (its held-out songs) or any folder of recordings (every audio file below it). \
            Each song is encoded whole, then decoded from one level's codes alone. SNR pools the error energy \
            of every song; spectral convergence is ‖S − Ŝ‖ / ‖S‖ of STFT magnitudes (n_fft 2048, hop 256), \
            pooled over the songs, and also averaged song by song. Flatness is the 4–22 kHz band's spectral \
            flatness (near 0 for harmonics, about 0.56 for white noise) over the frames where the songs sound in that band, \
            weighted by the band's power, of \
            the rebuilds beside the songs themselves: where a codec turns upper harmonics into hiss it rises.
            """)

    @Option(help: "VQ-VAE model folder (or a model set's vqvae).") var vqvae: String
    @Option(help: "Corpus folder (its held-out songs) or a folder of recordings.") var data: String
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let model = try VQVAE(folder: vqvae)
        let files = try VQVAEHeldOut.recordings(in: data)
        let bar = Progress.Bar("reconstructing \(files.count) songs", total: files.count)
        let levels = try VQVAEHeldOut.evaluate(vqvae: model, files: files) { done, _ in bar.update(done, unit: "songs") }
        if json {
            let data = try JSONSerialization.data(withJSONObject: levels.map(\.json), options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("level  hop   SNR dB  spectral convergence (pooled, per song)  4-22 kHz flatness (songs)")
        for r in levels {
            let flat = r.highBandFlatness.map { f in String(format: "%8.3f (%.3f)", f, r.cleanHighBandFlatness ?? 0) } ?? "  (no high band)"
            print(String(format: "%5d %4d %8.2f  %8.3f %8.3f                     ", r.level, model.hopLengths[r.level], r.snrDB,
                         r.spectralConvergence, r.spectralConvergencePerSong) + flat)
        }
    }
}

struct EvaluatePrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Bits per token of a prior on held-out code windows, beside a unigram, and what its conditions are worth.",
        discussion: """
            The same windows are scored again with another window's level above (upsamplers) and with \
            another window's artist and genres: the bits lost are what the prior takes from that condition. \
            TRAIN and TEST are code folders as `jukebox model train-default` writes them (WORK/codes-train, \
            WORK/codes-test). Instead of --test, SESSION folders (`jukebox sample` output) score a model's own \
            samples under the prompts they were sampled with: a prior that hears its conditions in them \
            loses bits when given another session's artist and genres, as on real songs.
            """)

    @Option(help: "Prior model folder (or a model set's prior_level_N).") var prior: String
    @Option(help: "Code folder of the training songs (for the unigram).") var train: String
    @Option(help: "Code folder of the held-out songs.") var test: String?
    @Option(help: "Windows to score.") var windows: Int = 48
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Argument(help: "Sample sessions to score instead of --test.") var sessions: [String] = []

    func validate() throws {
        guard (test == nil) != sessions.isEmpty else { throw JukeboxError("--test", "give either --test CODES or SESSION folders, one of the two") }
    }

    func run() throws {
        guard windows > 0 else { throw ValidationError("--windows must be at least 1, not \(windows)") }
        let model = try PriorModel.load(folder: prior)
        let testData: PriorTrainingData
        if let test {
            testData = try PriorTrainingData(folder: test, hps: model.hps)
        } else {
            let vocabulary = model.prior.config.labels ? try ModelSet.vocabulary(prior, model.hps, source: prior + "/config.json") : nil
            testData = try PriorTrainingData(sessions: sessions, vocabulary: vocabulary, hps: model.hps)
        }
        let scored = try Progress.task("scoring \(windows) windows") {
            try PriorHeldOut.evaluate(prior: model, train: train, test: testData, windows: windows)
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: scored.json, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func row(_ name: String, _ bits: Double?) {
            guard let bits else { return }
            let padded = name.padding(toLength: 34, withPad: " ", startingAt: 0)
            print(padded + String(format: " %10.3f %+8.3f", bits, bits - scored.bitsPerToken))
        }
        print(String(format: "level %d, %d windows, %d tokens", scored.level, scored.windows, scored.tokens))
        print(String(repeating: " ", count: 34) + " bits/token     lost")
        row("as given", scored.bitsPerToken)
        row("another window's level above", scored.bitsWithOtherAbove)
        row("another window's artist, genres", scored.bitsWithOtherLabels)
        row("the bar clock half a bar off", scored.bitsWithClockHalfABarOff)
        row("unigram of the training codes", scored.unigramBitsPerToken)
        row("uniform", scored.uniformBitsPerToken)
    }
}
