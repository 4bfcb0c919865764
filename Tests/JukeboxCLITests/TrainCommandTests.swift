import Foundation
import JukeboxCore
import XCTest

/// `jukebox train prior` on a learnable toy sequence: trains, refuses to overwrite, resumes exactly where it
/// stopped (the same bytes as an uninterrupted run), and the loss falls.
final class TrainCommandTests: XCTestCase {
    static let hps: [String: Any] = [
        "level": 2, "levels": 3, "l_bins": 8, "n_ctx": 16, "prior_width": 16, "prior_depth": 2, "heads": 2,
        "attn_order": 2, "blocks": 4, "spread": NSNull(), "m_attn": 0.5, "m_mlp": 1.0, "res_scale": false,
        "init_scale": 1.0, "pos_init": false, "labels": true, "labels_v3": false, "y_bins": [5, 7], "t_bins": 8,
        "max_bow_genre_size": 2, "sr": 44100, "min_duration": 1.0, "max_duration": 60.0,
        "n_tokens": 0, "n_vocab": 0, "use_tokens": false, "single_enc_dec": false, "merged_decoder": false,
        "prime_loss_fraction": 0.4, "copy_input": false,
        "downs_t": [3, 2, 2], "strides_t": [2, 2, 2], "cond_width": 8, "cond_depth": 2, "cond_m_conv": 1.0,
        "cond_dilation_growth_rate": 3, "cond_dilation_cycle": NSNull(), "cond_res_scale": false,
        "cond_zero_out": false, "cond_c_res": 0,
        "bs": 4, "lr": 0.01, "lr_warmup": 2.0, "clip": 1.0, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.0,
    ]

    /// Three songs whose top-level codes count up by one (mod l_bins) from a different phase: the next code
    /// is a function of the previous one, so a prior can learn it. Lower levels repeat the level above.
    func writeData(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let songs = 3, t2 = 400
        let z2 = (0..<songs).flatMap { n in (0..<t2).map { (3 * n + $0) % 8 } }
        let z1 = z2.flatMap { Array(repeating: $0, count: 4) }
        let z0 = z1.flatMap { Array(repeating: $0, count: 4) }
        try CodesFile.write([("z0", try LevelCodes(n: songs, t: t2 * 16, values: z0)),
                             ("z1", try LevelCodes(n: songs, t: t2 * 4, values: z1)),
                             ("z2", try LevelCodes(n: songs, t: t2, values: z2)),
                             ("labels", try LevelCodes(n: songs, t: 3, values: [1, 2, -1, 4, 0, 3, 6, 1, -1]))],
                            to: folder + "/songs.safetensors")
    }

    func losses(_ stderr: String) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in stderr.split(separator: "\n") where line.hasPrefix("step ") {
            let parts = line.split(separator: " ")
            guard let step = Int(parts[1].split(separator: "/")[0]), let i = parts.firstIndex(of: "loss"),
                  let loss = Double(parts[i + 1]) else { continue }
            out[step] = loss
        }
        return out
    }

    func testTrainResumeAndTheLossFalls() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: ["kind": "prior", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        let common = ["train", "prior", "--data", dir + "/data", "--level", "2", "--save-every", "10", "--log-every", "5"]

        let first = try CLI.run(common + ["--config", config, "--out", dir + "/run", "--steps", "20", "--seed", "3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let early = losses(first.stderr)
        XCTAssertEqual(Set(early.keys), [5, 10, 15, 20], first.stderr)
        XCTAssertTrue(first.stderr.contains("steps/s") && first.stderr.contains("ETA"), first.stderr)

        assertCleanFailure(try CLI.run(common + ["--config", config, "--out", dir + "/run", "--steps", "40"]), naming: dir + "/run")
        var wrongLevel = common
        wrongLevel[wrongLevel.firstIndex(of: "--level")! + 1] = "1"
        assertCleanFailure(try CLI.run(wrongLevel + ["--out", dir + "/run", "--steps", "40", "--resume"]), naming: "level")

        let resumed = try CLI.run(common + ["--out", dir + "/run", "--steps", "40", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 20"), resumed.stderr)
        let late = losses(resumed.stderr)
        XCTAssertEqual(Set(late.keys), [25, 30, 35, 40], resumed.stderr)
        let start = try XCTUnwrap(early[5]), end = try XCTUnwrap(late[40])
        print("train CLI: loss \(start) bits at step 5 → \(end) at step 40")
        XCTAssertLessThan(end, 0.5 * start)

        let again = try CLI.run(common + ["--out", dir + "/run", "--steps", "40", "--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("nothing to do"), again.stderr)

        // An uninterrupted run of 40 steps writes the same weights and optimizer state, byte for byte.
        let straight = try CLI.run(common + ["--config", config, "--out", dir + "/straight", "--steps", "40", "--seed", "3"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        for file in ["weights.safetensors", "optimizer.safetensors"] {
            let a = FileManager.default.contents(atPath: dir + "/run/" + file)
            let b = FileManager.default.contents(atPath: dir + "/straight/" + file)
            XCTAssertNotNil(a)
            XCTAssertEqual(a, b, file)
        }

        // The checkpoint is a model folder: score a window of the toy sequence with it.
        let z = (0..<16).map { (5 + $0) % 8 }
        try CodesFile.write([("z", try LevelCodes(n: 1, t: 16, values: z)),
                             ("y", try LevelCodes(n: 1, t: 6, values: [44100 * 2, 0, 16 * 128, 1, 2, -1]))],
                            to: dir + "/window.safetensors")
        let score = try CLI.run(["score", "--prior", dir + "/run", dir + "/window.safetensors"])
        XCTAssertEqual(score.status, 0, score.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as? [String: Any])
        let mean = try XCTUnwrap(json["mean_bits_per_token"] as? Double)
        XCTAssertLessThan(mean, 1.5, "a trained prior predicts the toy sequence far better than chance (3 bits)")
    }

    func testUpsamplerTrainsOnTheLevelAbove() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        var hps = Self.hps
        hps["level"] = 1
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: hps).write(to: URL(fileURLWithPath: config))
        let r = try CLI.run(["train", "prior", "--data", dir + "/data", "--level", "1", "--config", config,
                             "--out", dir + "/up", "--steps", "3", "--log-every", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Set(losses(r.stderr).keys), [1, 2, 3], r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/up/weights.safetensors"))
    }

    func testFineTuningStartsFromAModelFolder() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        let settings = dir + "/settings.json"
        try JSONSerialization.data(withJSONObject: ["lr": 0.001, "bs": 2, "lr_warmup": 1.0]).write(to: URL(fileURLWithPath: settings))
        // A reference fixture's prior (architecture and weights from its folder, training settings from --config).
        let fixture = try CLI.fixture("prior_top_dense")
        let r = try CLI.run(["train", "prior", "--data", dir + "/data", "--level", "2", "--init", fixture,
                             "--config", settings, "--out", dir + "/tuned", "--steps", "2", "--log-every", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tuned/training.json"))) as? [String: Any]
        let saved = try XCTUnwrap(state?["settings"] as? [String: Any])
        XCTAssertEqual(saved["lr"] as? Double, 0.001)
        let before = try ModelConfig.load(folder: fixture).hps, after = try ModelConfig.load(folder: dir + "/tuned").hps
        XCTAssertEqual(try after.int("prior_width"), try before.int("prior_width"))
        XCTAssertEqual(try after.int("bs"), 2)
        let file = try SafetensorsFile(path: dir + "/tuned/weights.safetensors")
        XCTAssertEqual(file.names, try SafetensorsFile(path: fixture + "/weights.safetensors").names)
        assertCleanFailure(try CLI.run(["train", "prior", "--data", dir + "/data", "--level", "1", "--init", fixture,
                                        "--out", dir + "/wrong", "--steps", "2"]), naming: "level")
    }

    /// Given a time instead of a step count, `--cosine-to-limit` plans half a cosine to end with the time limit
    /// once it knows its speed, saves the plan with the checkpoint, and a resumed run keeps it.
    func testACosinePlannedToTheTimeLimit() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: ["kind": "prior", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        let common = ["train", "prior", "--data", dir + "/data", "--level", "2", "--log-every", "25", "--steps", "1000000"]
        let r = try CLI.run(common + ["--config", config, "--out", dir + "/run", "--minutes", "0.05", "--cosine-to-limit"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let planLine = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.contains("half a cosine to zero at step") }, r.stderr)
        let end = try XCTUnwrap(Int(planLine.split(separator: " ").first { Int($0) != nil } ?? ""))
        func settings() throws -> [String: Any] {
            let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/training.json"))) as? [String: Any]
            return try XCTUnwrap(state?["settings"] as? [String: Any])
        }
        XCTAssertEqual(try settings()["lr_use_cosine_decay"] as? Bool, true)
        XCTAssertEqual(try settings()["lr_decay"] as? Double, Double(end))
        // The rate logged falls from the peak (0.01) as the run nears its planned end.
        let rates = r.stderr.split(separator: "\n").filter { $0.hasPrefix("step ") }.compactMap { line -> Double? in
            let parts = line.split(separator: " ")
            return parts.firstIndex(of: "lr").flatMap { Double(parts[$0 + 1]) }
        }
        XCTAssertGreaterThan(rates.count, 2, r.stderr)
        XCTAssertLessThan(try XCTUnwrap(rates.last), 0.0095, r.stderr)

        let resumed = try CLI.run(common + ["--out", dir + "/run", "--resume", "--minutes", "0.01"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try settings()["lr_decay"] as? Double, Double(end), "a resumed run keeps the plan")
        assertCleanFailure(try CLI.run(common + ["--out", dir + "/run", "--resume", "--minutes", "0.01", "--cosine-to-limit"]),
                           naming: "--cosine-to-limit")
        assertCleanFailure(try CLI.run(common + ["--config", config, "--out", dir + "/other", "--cosine-to-limit"]),
                           naming: "--cosine-to-limit")
    }

    func testFineTuningOnALongerWindow() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: ["kind": "prior", "hps": Self.hps]).write(to: URL(fileURLWithPath: config))
        let common = ["train", "prior", "--data", dir + "/data", "--level", "2", "--steps", "2", "--log-every", "1"]
        let first = try CLI.run(common + ["--config", config, "--out", dir + "/short"])
        XCTAssertEqual(first.status, 0, first.stderr)

        // 16 codes in 4 blocks; 64 codes keep the 4-code blocks, so 16 of them.
        let wide = try CLI.run(common + ["--init", dir + "/short", "--n-ctx", "64", "--out", dir + "/wide"])
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertEqual(Set(losses(wide.stderr).keys), [1, 2], wide.stderr)
        let hps = try ModelConfig.load(folder: dir + "/wide").hps
        XCTAssertEqual(try hps.int("n_ctx"), 64)
        XCTAssertEqual(try hps.int("blocks"), 16)
        let table = try SafetensorsFile(path: dir + "/wide/weights.safetensors").tensor("prior.pos_emb.pos_emb")
        XCTAssertEqual(table.shape, [64, 16])
        // The sampler loads the widened prior.
        XCTAssertEqual(try PriorModel.load(folder: dir + "/wide").nCtx, 64)

        assertCleanFailure(try CLI.run(common + ["--init", dir + "/short", "--n-ctx", "18", "--out", dir + "/odd"]),
                           naming: "--n-ctx")
        assertCleanFailure(try CLI.run(common + ["--config", config, "--n-ctx", "64", "--out", dir + "/fresh"]),
                           naming: "--n-ctx")
    }

    func testInterruptSavesTheStepUnderWay() throws {
        let dir = temporaryFolder(self)
        try writeData(dir + "/data")
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: Self.hps).write(to: URL(fileURLWithPath: config))
        let child = try Subprocess(CLI.executable, ["train", "prior", "--data", dir + "/data", "--level", "2", "--config", config,
                                                    "--out", dir + "/run", "--steps", "1000000", "--save-every", "5"])
        // The first checkpoint (step 5) shows the run is under way with its handlers installed.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: dir + "/run/training.json") && Date() < deadline { usleep(20_000) }
        kill(child.pid, SIGINT)
        let r = child.finish()
        XCTAssertEqual(r.status, 130, r.stderr)
        XCTAssertTrue(r.stderr.contains("interrupted: saved"), r.stderr)
        let state = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/training.json"))) as? [String: Any])
        let step = try XCTUnwrap(state["step"] as? Int)
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertLessThan(step, 1_000_000)
        // The last step the log reports is the one saved.
        let last = losses(r.stderr).keys.max() ?? 0
        XCTAssertLessThanOrEqual(last, step)
        let resumed = try CLI.run(["train", "prior", "--data", dir + "/data", "--level", "2", "--out", dir + "/run",
                                   "--steps", String(step + 2), "--resume", "--log-every", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(Set(losses(resumed.stderr).keys), [step + 1, step + 2], resumed.stderr)
    }

    func testLabelAddsArtistGenreAndLyricsThatTrainingReads() throws {
        let ids = CLI.shared.appendingPathComponent("jukebox-labels").path
        guard FileManager.default.fileExists(atPath: ids) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("label lists missing at \(ids)") }
            throw XCTSkip("label lists not found at \(ids)")
        }
        let dir = temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        let t2 = 400
        let song = dir + "/data/song.safetensors"
        try CodesFile.write([("z0", try LevelCodes(n: 1, t: t2 * 16, values: Array(repeating: 1, count: t2 * 16))),
                             ("z1", try LevelCodes(n: 1, t: t2 * 4, values: Array(repeating: 2, count: t2 * 4))),
                             ("z2", try LevelCodes(n: 1, t: t2, values: (0..<t2).map { $0 % 8 }))],
                            to: song, metadata: ["source": "x.wav"])
        try "hey jude\n".write(toFile: dir + "/lyrics.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "label", song, "--ids", ids, "--artist", "The Beatles", "--genre", "pop rock",
                             "--lyrics", "@" + dir + "/lyrics.txt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafetensorsFile(path: song)
        XCTAssertEqual(try CodesFile.read(file, "labels").values, [278, 14, 8, -1, -1, -1])
        XCTAssertEqual(try CodesFile.read(file, "lyrics").t, 9)
        XCTAssertEqual(try CodesFile.read(file, "z2").values, (0..<t2).map { $0 % 8 })
        XCTAssertEqual(file.metadata["source"], "x.wav")
        let unknown = try CLI.run(["train", "label", song, "--ids", ids, "--artist", "Nobody Anyone Knows", "--genre", "rock"])
        XCTAssertEqual(unknown.status, 0, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("warning"), unknown.stderr)
        XCTAssertEqual(try CodesFile.read(song, "labels").values, [0, 8, -1, -1, -1, -1])

        // A lyrics prior trains on the labelled song (the lyric windows come from its tokens).
        var hps = Self.hps
        for (k, v) in ["y_bins": [120, 4111], "max_bow_genre_size": 5, "n_tokens": 8, "n_vocab": 80, "use_tokens": true,
                       "attn_order": 6, "prior_depth": 4, "prime_width": 8, "prime_depth": 1, "prime_heads": 1,
                       "prime_attn_order": 0, "prime_blocks": NSNull(), "prime_spread": NSNull(), "prime_m_attn": 0.5,
                       "prime_m_mlp": 1.0, "prime_res_scale": false, "prime_pos_init": false, "prime_init_scale": 1.0] as [String: Any] {
            hps[k] = v
        }
        try JSONSerialization.data(withJSONObject: hps).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let t = try CLI.run(["train", "prior", "--data", dir + "/data", "--level", "2", "--config", dir + "/config.json",
                             "--out", dir + "/lyrics", "--steps", "2", "--log-every", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        // The lyrics encoder's loss is part of the training loss.
        XCTAssertTrue(t.stderr.contains("step 2/2") && !t.stderr.contains("lyrics 0.0000"), t.stderr)
    }

    func testMissingDataIsOneLine() throws {
        let dir = temporaryFolder(self)
        let config = dir + "/config.json"
        try JSONSerialization.data(withJSONObject: Self.hps).write(to: URL(fileURLWithPath: config))
        assertCleanFailure(try CLI.run(["train", "prior", "--data", dir + "/nothing", "--level", "2", "--config", config,
                                        "--out", dir + "/o", "--steps", "2"]), naming: dir + "/nothing")
    }
}
