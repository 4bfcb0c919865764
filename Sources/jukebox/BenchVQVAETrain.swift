import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct BenchVQVAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqvae-train",
        abstract: "Time VQ-VAE training steps (every level, the reference's loss, Adam) on a random model set's VQ-VAE.")

    @Option(help: "tiny or small (the random model set's VQ-VAE).") var preset: String = "small"
    @Option(name: .customLong("sample-length"), help: "Samples per item (a multiple of 128).") var sampleLength: Int = 32768
    @Option var batch: Int = 1
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 3
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let p = RandomModelSet.Preset(rawValue: preset) else { throw JukeboxError("--preset", "unknown preset \(preset) (tiny or small)") }
        guard sampleLength > 1024, sampleLength % 128 == 0, batch >= 1, steps >= 1 else {
            throw JukeboxError("bench vqvae-train", "--sample-length must be a multiple of 128 above 1024; --batch and --steps positive")
        }
        let r = try VQVAETrainingBenchmark.run(preset: p, sampleLength: sampleLength, batch: batch, steps: steps)
        if json {
            try printJSON(["seconds_per_step": r.secondsPerStep, "steps_per_second": r.stepsPerSecond,
                           "audio_seconds_per_second": r.audioSecondsPerSecond, "spectral_seconds_per_step": r.spectralSecondsPerStep,
                           "batch": r.batch, "sample_length": r.sampleLength, "parameters": r.parameters])
        } else {
            print(r.description)
        }
    }
}
