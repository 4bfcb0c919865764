import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// How every sampling command takes the sampler's settings (temperatures, top-k/top-p, model set):
/// declared once, turned into the library's types in one place.
struct SamplerOptions: ParsableArguments {
    @Option(help: "Model set folder (vqvae, prior_level_2, prior_level_1, prior_level_0); default: the bundled model.")
    var model: String?
    @Option(name: .customLong("temp-top"), parsing: .unconditional, help: "Temperature at the top level (default: the session's, else the model set's, else 0.98).")
    var tempTop: Double?
    @Option(name: .customLong("temp-rest"), parsing: .unconditional, help: "Temperature of the upsamplers (default: the session's, else the model set's, else 0.99).")
    var tempRest: Double?
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Draw each code from the k likeliest only (0: from all).") var topK: Int?
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Draw each code from the likeliest whose probabilities add up to p (0: from all).")
    var topP: Double?
    @Option(name: .customLong("adapt-steps"), help: "Primed mode: teach each prior the prime for this many steps first (0: no); the set so taught is kept in the session.")
    var adaptSteps: Int = 0
    @Option(name: .customLong("adapt-lr"), help: "Learning rate of --adapt-steps.") var adaptLr: Double = 0.0003

    /// The teaching settings when --adapt-steps asks for any (0: none), checked where they are defined.
    func adaptation() throws -> PrimeAdaptation.Settings? {
        adaptSteps == 0 ? nil : try PrimeAdaptation.Settings(steps: adaptSteps, learningRate: adaptLr)
    }

    func validate() throws { _ = try adaptation() }

    /// These settings on a job.
    func apply(to job: inout SampleJob) {
        job.model = model
        job.topTemperature = tempTop
        job.upsamplerTemperature = tempRest
        job.request.topK = topK
        job.request.topP = topP
        // validate() has checked the settings.
        if let settings = try? adaptation() {
            job.adaptToPrime = { set, codes, prompt, into in
                var bar: Progress.Bar? = nil, current = -1
                return try PrimeAdaptation.adapt(set: set, primeCodes: codes, prompt: prompt, settings: settings, to: into, log: Log.note) { level, step, steps in
                    if level != current { bar = Progress.Bar("level \(level) hearing the prime", total: steps); current = level }
                    bar?.update(step, unit: "steps")
                }
            }
        }
    }
}

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate music: sample codes level by level and render a WAV per sample into a session folder.")

    @OptionGroup var sampler: SamplerOptions
    @Option(help: "Genre, as the model's genre list names it (continue, upsample: the session's unless given).") var genre: String?
    @Option(help: "Artist, as the model's artist list names it (continue, upsample: the session's unless given).") var artist: String?
    @Option(help: "Lyrics text, or @FILE to read them from a file.") var lyrics: String?
    @Option(parsing: .unconditional, help: "Seconds of audio to have sampled (continue: the session's unless given).") var seconds: Double?
    @Option(name: .customLong("total-seconds"), parsing: .unconditional, help: "Length of the whole song the labels describe (default: the session's, else the model set's song length, else 2 × --seconds, at least 60).")
    var totalSeconds: Double?
    @Option(parsing: .unconditional, help: "Number of samples, drawn together (default 1, or the session's).") var samples: Int?
    @Option(help: "Random seed (default 0, or the session's).") var seed: UInt64?
    @Option(help: "ancestral, primed, continue or upsample.") var mode: String = "ancestral"
    @Option(help: "Audio to continue (primed mode).") var prime: String?
    @Option(name: .customLong("prime-seconds"), parsing: .unconditional, help: "Seconds of --prime to keep.") var primeSeconds: Double = 4
    @Option(help: "Earlier session whose codes to continue or upsample; its prompt stands in for options not given.") var session: String?
    @Option(help: "top (the top level only) or all.") var levels: String = "all"
    @Option(parsing: .unconditional, help: "Tempo for a top prior with a bar clock, beats a minute (default: the artist's in the model set's corpus).")
    var bpm: Double?
    @Option(parsing: .unconditional, help: "Where a bar starts, in seconds from the song's start (default: 0, or with --prime the first beat heard in it).")
    var downbeat: Double?
    @Option(name: .customLong("bar-guidance"), parsing: .unconditional, help: "How strongly the model set's bar guide keeps the top level's codes on the bar (0: off; default: the set's).")
    var barGuidance: Double?
    @Option(name: .customLong("genre-guidance"), parsing: .unconditional, help: "How strongly the set's guide pulls the top level toward the codes of the genre asked for (0: off; default: the set's).")
    var genreGuidance: Double?
    @Option(name: .customLong("prime-guidance"), parsing: .unconditional, help: "How strongly a continuation keeps the places in the bar of its prime's own codes, at every level it samples (0: off; default: the set's; needs a tempo).")
    var primeGuidance: Double?
    @Option(name: .shortAndLong, help: "Output folder: becomes a session folder.") var output: String

    func job() throws -> SampleJob {
        guard let mode = SessionMode(rawValue: mode) else {
            throw JukeboxError("--mode", "unknown mode \(self.mode) (ancestral, primed, continue or upsample)")
        }
        guard let levels = SampleJob.Levels(rawValue: levels) else { throw JukeboxError("--levels", "is \(levels); use top or all") }
        let request = PromptRequest(genre: genre, artist: artist, lyrics: try lyrics.map(SampleJob.lyricsText), seconds: seconds,
                                    totalSeconds: totalSeconds, bpm: bpm, downbeat: downbeat, barGuidance: barGuidance, seed: seed,
                                    samples: samples, mode: mode, genreGuidance: genreGuidance,
                                    primeGuidance: primeGuidance)
        var job = SampleJob(request: request, output: output)
        sampler.apply(to: &job)
        job.levels = levels
        job.prime = prime
        job.primeSeconds = primeSeconds
        job.session = session
        return job
    }

    func run() throws {
        let job = try job()
        // Ctrl-C (or a polite kill) stops sampling within a token and keeps what exists: it can be continued.
        let cancel = CancelFlag()
        let interrupts = InterruptRequests([SIGINT, SIGTERM, SIGHUP], cancelling: cancel)
        defer { interrupts.stop() }
        do {
            _ = try job.run(cancel: cancel, log: Log.note, events: SamplingProgress().show)
        } catch let interrupted as SampleJob.Interrupted {
            throw interrupted.reason
        }
    }
}

/// A bar per level on a terminal; a line per level when piped.
final class SamplingProgress {
    private var bars: [Int: Progress.Bar] = [:]
    private var reported: Set<Int> = []

    func show(_ event: GenerationEvent) {
        guard case let .progress(level, done, total, rate, _) = event else { return }
        let bar = bars[level] ?? Progress.Bar("level \(level)", total: total)
        bars[level] = bar
        bar.update(done, unit: "tok")
        if !Progress.isTerminal && done == total && reported.insert(level).inserted {
            Log.note(String(format: "level %d: %d tokens at %.1f tokens/s", level, total, rate))
        }
    }
}
