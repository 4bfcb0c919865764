import Foundation
import JukeboxCore
import JukeboxFormats
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining
import XCTest

/// `jukebox train vqvae` on a small corpus folder: trains, logs, evaluates the held-out song, writes a
/// model folder the other commands read, refuses to overwrite, resumes bit for bit, and starts from a trained
/// folder with --init.
final class TrainVQVAECommandTests: XCTestCase {
    static let hps: [String: Any] = [
        "levels": 2, "downs_t": [2, 1], "strides_t": [2, 4], "emb_width": 4, "l_bins": 8, "width": 8, "depth": 2,
        "m_conv": 1.0, "dilation_growth_rate": 3, "dilation_cycle": NSNull(), "hvqvae_multipliers": [2, 1],
        "vqvae_reverse_decoder_dilation": true, "sr": 44100, "l_mu": 0.9, "commit": 0.02, "spectral": 0.0,
        "multispectral": 1.0, "loss_fn": "lmix", "lmix_l1": 0.0, "lmix_l2": 1.0, "lmix_linf": 0.02, "linf_k": 64,
        "multispec_loss_n_fft": [256, 128], "multispec_loss_hop_length": [64, 32], "multispec_loss_window_size": [256, 128],
        "sample_length": 2048, "bs": 2, "lr": 0.003, "lr_warmup": 1.0,
    ]

    /// Three tone "songs" in the corpus layout, the last held out.
    func writeCorpus(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder + "/audio", withIntermediateDirectories: true)
        var lines: [String] = []
        for (i, split) in ["train", "train", "test"].enumerated() {
            let samples = (0..<(6000 + 1000 * i)).map { j in Float(0.3 * sin(2 * Double.pi * Double(j) * [220.0, 330.0, 277.0][i] / 44100)) }
            let file = "audio/s\(i).wav"
            try AudioFile.writeWAV(folder + "/" + file, samples: samples, sampleRate: 44100)
            lines.append(#"{"id": "s\#(i)", "file": "\#(file)", "genre": "rock", "artist": "a", "lyrics": "", "seconds": 0.2, "#
                         + #""bpm": 120, "key": "C", "split": "\#(split)"}"#)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/songs.jsonl", atomically: true, encoding: .utf8)
    }

    /// --minutes stops a run that would go on for long: it evaluates, saves and exits normally, so a
    /// recipe can share a time budget among its stages.
    func testTimeLimitSavesAndExitsNormally() throws {
        let dir = temporaryFolder(self)
        try writeCorpus(dir + "/corpus")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: ["kind": "vqvae", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        let r = try CLI.run(["train", "vqvae", "--data", dir + "/corpus", "--config", config, "--out", dir + "/vq",
                             "--steps", "1000000", "--minutes", "0.02", "--eval-crops", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("time limit reached: saved \(dir)/vq at step"), r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/vq/evaluation.json"))) as? [String: Any])
        let step = try XCTUnwrap(report["step"] as? Int)
        XCTAssertTrue(step > 0 && step < 1_000_000, "\(step)")
        XCTAssertEqual((report["held_out"] as? [[String: Any]])?.count, 2, "the saved weights are evaluated")
        assertCleanFailure(try CLI.run(["train", "vqvae", "--data", dir + "/corpus", "--config", config, "--out", dir + "/x",
                                        "--minutes", "0"]), naming: "--minutes")
    }

    func testTrainEvaluateSaveAndContinue() throws {
        let dir = temporaryFolder(self)
        try writeCorpus(dir + "/corpus")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: ["kind": "vqvae", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        let common = ["train", "vqvae", "--data", dir + "/corpus", "--config", config, "--log-every", "2", "--eval-every", "3",
                      "--save-every", "3", "--eval-crops", "2"]
        let r = try CLI.run(common + ["--out", dir + "/vq", "--steps", "6", "--seed", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("step 6/6 loss") && r.stderr.contains("steps/s"), r.stderr)
        XCTAssertTrue(r.stderr.contains("held out at step 6: level 0 SC"), r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/vq/evaluation.json"))) as? [String: Any])
        XCTAssertEqual(report["step"] as? Int, 6)
        let levels = try XCTUnwrap(report["held_out"] as? [[String: Any]])
        XCTAssertEqual(levels.count, 2)
        for l in levels { XCTAssertTrue((l["snr_db"] as? Double)?.isFinite == true, "\(l)") }

        // The folder is a VQ-VAE model folder.
        let info = try CLI.run(["info", dir + "/vq"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertNoThrow(try VQVAE(folder: dir + "/vq"))

        assertCleanFailure(try CLI.run(common + ["--out", dir + "/vq", "--steps", "2"]), naming: dir + "/vq")
        assertCleanFailure(try CLI.run(common.filter { $0 != config && $0 != "--config" } + ["--config", dir + "/none.json", "--out", dir + "/x"]),
                           naming: "none.json")

        // Three steps, then --resume to six: the same bytes as six straight.
        let half = try CLI.run(common + ["--out", dir + "/half", "--steps", "3", "--seed", "1"])
        XCTAssertEqual(half.status, 0, half.stderr)
        let rest = try CLI.run(["train", "vqvae", "--data", dir + "/corpus", "--out", dir + "/half", "--steps", "6", "--resume",
                                "--log-every", "2", "--eval-every", "3", "--save-every", "3", "--eval-crops", "2"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        XCTAssertTrue(rest.stderr.contains("resuming at step 3"), rest.stderr)
        for file in ["weights.safetensors", "optimizer.safetensors"] {
            let a = FileManager.default.contents(atPath: dir + "/vq/" + file), b = FileManager.default.contents(atPath: dir + "/half/" + file)
            XCTAssertNotNil(a)
            XCTAssertEqual(a, b, file)
        }

        // --init starts a new run from a trained folder, with the config's training settings.
        let more = try CLI.run(common + ["--out", dir + "/more", "--init", dir + "/vq", "--steps", "2"])
        XCTAssertEqual(more.status, 0, more.stderr)
        XCTAssertTrue(more.stderr.contains("step 2/2 loss"), more.stderr)
    }

    /// A wider level 0 trained beside the levels of a trained VQ-VAE: level 1 is taken from it byte for
    /// byte and stays so (its codes, which priors know, are unchanged), level 0 learns, and a resumed run
    /// keeps training level 0 alone.
    func testOneLevelTrainsWiderWhileTheOthersAreKept() throws {
        let dir = temporaryFolder(self)
        try writeCorpus(dir + "/corpus")
        let config = dir + "/config.json", wider = dir + "/wider.json"
        try JSONSerialization.data(withJSONObject: ["kind": "vqvae", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        var hps = Self.hps
        hps["hvqvae_multipliers"] = [4, 1]
        hps["train_levels"] = [0]
        try JSONSerialization.data(withJSONObject: ["kind": "vqvae", "hps": hps]).write(to: URL(fileURLWithPath: wider))
        let base = try CLI.run(["train", "vqvae", "--data", dir + "/corpus", "--config", config, "--out", dir + "/vq", "--steps", "3",
                                "--seed", "1", "--eval-crops", "1"])
        XCTAssertEqual(base.status, 0, base.stderr)
        let common = ["train", "vqvae", "--data", dir + "/corpus", "--config", wider, "--eval-crops", "1", "--log-every", "1", "--seed", "2"]
        // Leaving a level untrained in a new run needs somewhere to take it from.
        assertCleanFailure(try CLI.run(common + ["--out", dir + "/alone", "--steps", "1"]), naming: "train_levels")
        let r = try CLI.run(common + ["--out", dir + "/l0", "--steps", "4", "--keep-levels-from", dir + "/vq", "--save-every", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("training the VQ-VAE (levels 0 only)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("(l0 recons") && !r.stderr.contains("l1 recons"), r.stderr)
        XCTAssertTrue(r.stderr.contains("held out at step 4: level 0 SC") && r.stderr.contains("; level 1 SC"), r.stderr)

        let before = try SafetensorsFile(path: dir + "/vq/weights.safetensors"), after = try SafetensorsFile(path: dir + "/l0/weights.safetensors")
        let oldWidth = try before.tensor("encoders.0.level_blocks.0.model.0.0.weight").shape[0]
        XCTAssertEqual(try after.tensor("encoders.0.level_blocks.0.model.0.0.weight").shape[0], 2 * oldWidth, "level 0 is twice as wide")
        var level1 = 0
        for key in before.names where key.hasPrefix("encoders.1.") || key.hasPrefix("decoders.1.") || key.hasPrefix("bottleneck.level_blocks.1.") {
            XCTAssertEqual(try before.tensor(key).toArray(), try after.tensor(key).toArray(), key)
            level1 += 1
        }
        XCTAssertGreaterThan(level1, 10)
        let model = try VQVAE(folder: dir + "/l0"), old = try VQVAE(folder: dir + "/vq")
        let x = (0..<4096).map { Float(0.3 * sin(Double($0) * 0.07)) }
        XCTAssertEqual(try model.encode(Tensor(shape: [1, 4096, 1], values: x))[1], try old.encode(Tensor(shape: [1, 4096, 1], values: x))[1],
                       "the level above codes as before")

        // Resumed, it goes on with level 0 alone: the same bytes as four steps straight.
        let half = try CLI.run(common + ["--out", dir + "/half", "--steps", "2", "--keep-levels-from", dir + "/vq"])
        XCTAssertEqual(half.status, 0, half.stderr)
        let rest = try CLI.run(["train", "vqvae", "--data", dir + "/corpus", "--out", dir + "/half", "--steps", "4", "--resume",
                                "--eval-crops", "1", "--seed", "2"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/half/weights.safetensors"),
                       FileManager.default.contents(atPath: dir + "/l0/weights.safetensors"))
        assertCleanFailure(try CLI.run(common + ["--out", dir + "/x", "--resume", "--keep-levels-from", dir + "/vq"]), naming: "--keep-levels-from")
        // A source whose kept level differs in shape is named.
        hps["hvqvae_multipliers"] = [4, 2]
        try JSONSerialization.data(withJSONObject: ["kind": "vqvae", "hps": hps]).write(to: URL(fileURLWithPath: wider))
        assertCleanFailure(try CLI.run(common + ["--out", dir + "/y", "--steps", "1", "--keep-levels-from", dir + "/vq"]), naming: dir + "/vq")
    }

    func testBenchTimesTrainingSteps() throws {
        let r = try CLI.run(["bench", "vqvae-train", "--preset", "tiny", "--sample-length", "2048", "--steps", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let seconds = try XCTUnwrap(json["seconds_per_step"] as? Double)
        print("bench vqvae-train tiny, 2048 samples: \(seconds) s/step")
        XCTAssertGreaterThan(seconds, 0)
        XCTAssertEqual(json["sample_length"] as? Int, 2048)
        assertCleanFailure(try CLI.run(["bench", "vqvae-train", "--sample-length", "1000"]), naming: "sample-length")
    }
}
