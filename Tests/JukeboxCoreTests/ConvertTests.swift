import JukeboxTestSupport
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class ConvertTests: XCTestCase {
    // MARK: - Published-format fixtures

    /// Every tensor of `folder`'s weights equals the fixture's bit for bit (or, for `halfRounded`,
    /// equals the fp32 weight or its fp16 rounding), same keys and shapes.
    func assertWeights(_ folder: String, equal reference: String, halfRounded: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) throws -> (exact: Int, rounded: Int) {
        let ours = try SafetensorsFile(path: folder + "/weights.safetensors")
        let ref = try SafetensorsFile(path: reference)
        XCTAssertEqual(Set(ours.names), Set(ref.names), "same keys", file: file, line: line)
        var exact = 0, rounded = 0
        for name in ref.names {
            guard ours.entries[name] != nil else { continue }
            let a = try ours.tensor(name), b = try ref.tensor(name)
            XCTAssertEqual(a.shape, b.shape, name, file: file, line: line)
            guard a.count == b.count else { continue }
            var allExact = true
            for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern {
                allExact = false
                let r = HalfPrecision.f16ToF32(HalfPrecision.f32ToF16(b[i]))
                if !halfRounded || a[i].bitPattern != r.bitPattern {
                    XCTFail("\(name)[\(i)]: \(a[i]) vs reference \(b[i])", file: file, line: line)
                    break
                }
            }
            if allExact { exact += 1 } else { rounded += 1 }
        }
        return (exact, rounded)
    }

    func fixtureHps(_ name: String) throws -> NSDictionary {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.folder(name) + "/config.json"))
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return obj["hps"] as! NSDictionary
    }

    func testLegacyVQVAECheckpointConvertsToTheReferenceWeights() throws {
        let dir = try Fixtures.folder("vqvae")
        let out = temporaryFolder(self) + "/vqvae"
        let summary = try CheckpointConverter.convert(input: dir + "/checkpoint_legacy.pth.tar", output: out, preset: nil,
                                                      labelsDirectory: nil)
        XCTAssertEqual(summary.kind, .vqvae)
        XCTAssertEqual(summary.format, .legacy)
        XCTAssertEqual(summary.hpsSource, "checkpoint")
        XCTAssertNotNil(summary.step, "the checkpoint's step is read")
        XCTAssertNil(summary.labels)
        XCTAssertEqual(summary.warnings, [], "the fixture carries every hp")
        let counts = try assertWeights(out, equal: dir + "/weights.safetensors")
        XCTAssertEqual(counts.exact, summary.tensorCount)
        XCTAssertEqual(summary.tensorCount, try SafetensorsFile(path: dir + "/weights.safetensors").names.count)
        let config = try ModelConfig.load(folder: out)
        XCTAssertEqual(config.kind, .vqvae)
        XCTAssertEqual(NSDictionary(dictionary: config.hps.values), try fixtureHps("vqvae"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/" + LabelVocabulary.artistsFileName))
    }

    func testZipVQVAECheckpointConvertsToTheReferenceWeights() throws {
        let dir = try Fixtures.folder("vqvae")
        let out = temporaryFolder(self) + "/vqvae"
        let summary = try CheckpointConverter.convert(input: dir + "/checkpoint_zip.pth.tar", output: out, preset: nil,
                                                      labelsDirectory: nil)
        XCTAssertEqual(summary.format, .zip)
        let counts = try assertWeights(out, equal: dir + "/weights.safetensors")
        XCTAssertEqual(counts.exact, try SafetensorsFile(path: dir + "/weights.safetensors").names.count)
        XCTAssertEqual(NSDictionary(dictionary: try ModelConfig.load(folder: out).hps.values), try fixtureHps("vqvae"))
    }

    func testFp16LyricsPriorConvertsToRoundedWeightsWithoutModulePrefix() throws {
        let dir = try Fixtures.folder("prior_top_5b_lyrics")
        let labels = try Fixtures.labelsFolder()
        let out = temporaryFolder(self) + "/prior"
        let summary = try CheckpointConverter.convert(input: dir + "/checkpoint_fp16_legacy.pth.tar", output: out,
                                                      preset: nil, labelsDirectory: labels)
        XCTAssertEqual(summary.kind, .prior)
        XCTAssertEqual(summary.labels, "v2")
        let reference = try SafetensorsFile(path: dir + "/weights.safetensors").names.count
        XCTAssertGreaterThan(summary.sourceDTypes["float16"] ?? 0, 0, "the transformer weights are stored in fp16")
        XCTAssertEqual(summary.sourceDTypes.values.reduce(0, +), reference)
        let counts = try assertWeights(out, equal: dir + "/weights.safetensors", halfRounded: true)
        XCTAssertEqual(counts.exact + counts.rounded, reference)
        XCTAssertGreaterThan(counts.rounded, 0, "the fp16 tensors differ from fp32 by their rounding")
        let written = try SafetensorsFile(path: out + "/weights.safetensors")
        XCTAssertFalse(written.names.contains { $0.hasPrefix("module.") })
        XCTAssertTrue(written.entries.values.allSatisfy { $0.dtype == .f32 }, "stored as F32 by default")
        XCTAssertEqual(NSDictionary(dictionary: try ModelConfig.load(folder: out).hps.values), try fixtureHps("prior_top_5b_lyrics"))
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + LabelVocabulary.artistsFileName),
                       FileManager.default.contents(atPath: labels + "/v2_artist_ids.txt"))
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + LabelVocabulary.genresFileName),
                       FileManager.default.contents(atPath: labels + "/v2_genre_ids.txt"))
    }

    func testKeepHalfStoresFp16TensorsAsF16() throws {
        let dir = try Fixtures.folder("prior_top_5b_lyrics")
        let out = temporaryFolder(self) + "/prior"
        let summary = try CheckpointConverter.convert(input: dir + "/checkpoint_fp16_legacy.pth.tar", output: out,
                                                      preset: nil, labelsDirectory: nil, keepHalf: true)
        XCTAssertTrue(summary.warnings.contains { $0.contains(LabelVocabulary.artistsFileName) })
        let written = try SafetensorsFile(path: out + "/weights.safetensors")
        XCTAssertEqual(written.entries.values.filter { $0.dtype == .f16 }.count, summary.sourceDTypes["float16"] ?? -1)
        XCTAssertGreaterThan(summary.sourceDTypes["float16"] ?? 0, 0)
        let counts = try assertWeights(out, equal: dir + "/weights.safetensors", halfRounded: true)
        XCTAssertEqual(counts.exact + counts.rounded, try SafetensorsFile(path: dir + "/weights.safetensors").names.count)
    }

    func testConfigKeepsPythonNumberTypes() throws {
        let dir = try Fixtures.folder("vqvae")
        let out = temporaryFolder(self) + "/vqvae"
        _ = try CheckpointConverter.convert(input: dir + "/checkpoint_legacy.pth.tar", output: out, preset: nil, labelsDirectory: nil)
        let text = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"train_shrink_factor\": 1.0,"), "floats stay floats")
        XCTAssertTrue(text.contains("\"lr_decay\": 10000000000.0,"))
        XCTAssertTrue(text.contains("\"eps\": 1e-08,"))
        XCTAssertTrue(text.contains("\"min_duration\": null,"))
        XCTAssertTrue(text.contains("\"levels\": 3,"))
        XCTAssertLessThan(text.range(of: "rcall_command")!.lowerBound, text.range(of: "bucket")!.lowerBound, "reference key order")
    }

    // MARK: - Presets

    func testPresetsHoldEveryReferenceKeyWithTheReferenceValues() throws {
        let fixtureKeys = Set(try fixtureHps("vqvae").allKeys as! [String])
        for name in HyperparameterPresets.names {
            let hps = try HyperparameterPresets.hps(name)
            XCTAssertEqual(Set(hps.map(\.key)), fixtureKeys, name)
            XCTAssertEqual(hps.count, fixtureKeys.count, "\(name) has no duplicate keys")
            XCTAssertEqual(CheckpointConverter.value(hps, "levels"), .int(3), name)
            XCTAssertEqual(CheckpointConverter.value(hps, "downs_t"), .tuple([.int(3), .int(2), .int(2)]), name)
        }
        func v(_ preset: String, _ key: String) throws -> PickleValue? { CheckpointConverter.value(try HyperparameterPresets.hps(preset), key) }
        XCTAssertEqual(try v("prior_5b_lyrics", "prior_depth"), .int(79))
        XCTAssertEqual(try v("prior_5b_lyrics", "alignment_layer"), .int(68))
        XCTAssertEqual(try v("prior_5b_lyrics", "y_bins"), .tuple([.int(120), .int(4111)]))
        XCTAssertEqual(try v("prior_5b", "prior_depth"), .int(72))
        XCTAssertEqual(try v("prior_5b", "alignment_layer"), PickleValue.none)
        XCTAssertEqual(try v("prior_1b_lyrics", "labels_v3"), .bool(true))
        XCTAssertEqual(try v("prior_1b_lyrics", "y_bins"), .tuple([.int(604), .int(7898)]))
        XCTAssertEqual(try v("prior_1b_lyrics", "n_ctx"), .int(6144))
        XCTAssertEqual(try v("upsampler_level_1", "cond_res_scale"), .bool(true))
        XCTAssertEqual(try v("upsampler_level_0", "cond_res_scale"), .bool(false))
        XCTAssertEqual(try v("upsampler_level_0", "level"), .int(0))
        XCTAssertEqual(try v("vqvae", "l_bins"), .int(2048))
        XCTAssertEqual(try v("vqvae", "sample_length"), .int(0))
        XCTAssertThrowsError(try HyperparameterPresets.hps("prior_9b"))
    }

    func testPresetReplacesCheckpointHpsAndWarnsAboutArchitectureDifferences() throws {
        let dir = try Fixtures.folder("vqvae")
        let out = temporaryFolder(self) + "/vqvae"
        let summary = try CheckpointConverter.convert(input: dir + "/checkpoint_legacy.pth.tar", output: out,
                                                      preset: "vqvae", labelsDirectory: nil)
        XCTAssertEqual(summary.hpsSource, "preset vqvae")
        // The fixture is a small VQ-VAE; the preset is the published one (width 32), and the difference is named.
        let width = try ModelConfig.load(folder: dir).hps.int("width")
        if width != 32 {
            XCTAssertTrue(summary.warnings.contains { $0.contains("hps width: checkpoint has \(width), preset has 32") },
                          "\(summary.warnings)")
        }
        XCTAssertFalse(summary.warnings.contains { $0.contains("downs_t") }, "(3, 2, 2) agrees with [3, 2, 2]")
        let config = try ModelConfig.load(folder: out)
        XCTAssertEqual(try config.hps.int("width"), 32)
        XCTAssertEqual(try config.hps.string("restore_vqvae"), "https://openaipublic.azureedge.net/jukebox/models/5b/vqvae.pth.tar")
    }

    func testPresetOfTheWrongKindAndUnknownPresetsAreErrors() throws {
        let dir = try Fixtures.folder("vqvae")
        let out = temporaryFolder(self) + "/x"
        XCTAssertThrowsError(try CheckpointConverter.convert(input: dir + "/checkpoint_legacy.pth.tar", output: out,
                                                             preset: "prior_5b", labelsDirectory: nil)) {
            XCTAssertTrue("\($0)".contains("preset prior_5b describes a prior"), "\($0)")
        }
        XCTAssertThrowsError(try CheckpointConverter.convert(input: dir + "/checkpoint_legacy.pth.tar", output: out,
                                                             preset: "huge", labelsDirectory: nil)) {
            XCTAssertTrue("\($0)".contains("unknown preset huge"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    // MARK: - Hand-built checkpoints: strides, views, dtypes, zip64, missing hps

    /// A small prior-like state dict: a transposed fp32 tensor, an fp16 tensor, a legacy storage
    /// view, and an int64 buffer, under `module.` names.
    static func smallCheckpoint(hps: TorchFileBuilder.Value?, zip: Bool = false, zip64: Bool = false) -> [UInt8] {
        typealias T = TorchFileBuilder.TensorSpec
        let a: [Float] = [0, 1, 2, 3, 4, 5]
        let h: [Float] = [0.1, -2.5, 1e-3, 65504]
        var model: [(String, TorchFileBuilder.Value)] = [
            ("module.prior.x_emb.weight", .tensor(T(storage: "10", storageCount: 6, size: [2, 3], stride: [1, 2]))),
            ("module.prior.ln.weight", .tensor(T(storage: "11", dtype: "HalfStorage", storageCount: 4, offset: 1, size: [3], stride: [1]))),
            ("module.y_emb.count", .tensor(T(storage: "12", dtype: "LongStorage", storageCount: 2, size: [2], stride: [1]))),
        ]
        if !zip {
            model.append(("module.prior.view", .tensor(T(storage: "10", storageCount: 6, offset: 1, size: [2], stride: [1],
                                                          view: ("99", 3, 3)))))
        }
        var root: [(String, TorchFileBuilder.Value)] = []
        if let hps { root.append(("hps", hps)) }
        root += [("model", .orderedDict(model)), ("step", .int(12))]
        if zip {
            return TorchFileBuilder.zip(.dict(root), storages: [("10", TorchFileBuilder.floats(a)), ("11", TorchFileBuilder.halves(h)),
                                                                 ("12", TorchFileBuilder.longs([7, -1]))], zip64: zip64)
        }
        return TorchFileBuilder.legacy(.dict(root), storages: [("10", 4, TorchFileBuilder.floats(a)), ("11", 2, TorchFileBuilder.halves(h)),
                                                               ("12", 8, TorchFileBuilder.longs([7, -1]))])
    }

    static let smallHps: TorchFileBuilder.Value = .dict([("prior_width", .int(3)), ("labels", .bool(false)),
                                                         ("downs_t", .tuple([.int(3), .int(2)])), ("lr", .float(2.5))])

    func testStridedViewAndIntegerTensorsAreGatheredAndConverted() throws {
        let dir = temporaryFolder(self)
        for (name, bytes) in [("legacy.pth", Self.smallCheckpoint(hps: Self.smallHps)),
                              ("zip.pth", Self.smallCheckpoint(hps: Self.smallHps, zip: true)),
                              ("zip64.pth", Self.smallCheckpoint(hps: Self.smallHps, zip: true, zip64: true))] {
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let ckpt = try TorchCheckpoint(path: path)
            guard case .tensor(let x) = ckpt.root["model"]?["module.prior.x_emb.weight"] else { return XCTFail(name) }
            // storage [0 1 2 3 4 5] viewed as size (2,3) stride (1,2): rows [0 2 4], [1 3 5].
            XCTAssertEqual(try ckpt.tensor(x).toArray(), [0, 2, 4, 1, 3, 5], name)
            let out = dir + "/out-" + name
            let summary = try CheckpointConverter.convert(input: path, output: out, preset: nil, labelsDirectory: nil)
            XCTAssertEqual(summary.kind, .prior, name)
            XCTAssertEqual(summary.step, 12)
            XCTAssertNil(summary.labels, "labels false: no lists needed")
            XCTAssertEqual(summary.warnings.count, 1, "\(summary.warnings)")
            XCTAssertTrue(summary.warnings[0].contains("absent from the checkpoint take the reference defaults: rcall_command"),
                          summary.warnings[0])
            let w = try SafetensorsFile(path: out + "/weights.safetensors")
            XCTAssertEqual(try w.tensor("prior.x_emb.weight").shape, [2, 3])
            XCTAssertEqual(try w.tensor("prior.x_emb.weight").toArray(), [0, 2, 4, 1, 3, 5], name)
            let half = [Float](arrayLiteral: -2.5, 1e-3, 65504).map { HalfPrecision.f16ToF32(HalfPrecision.f32ToF16($0)) }
            XCTAssertEqual(try w.tensor("prior.ln.weight").toArray(), half, name)
            XCTAssertEqual(w.entries["y_emb.count"]?.dtype, .i64)
            XCTAssertEqual(try w.int64s("y_emb.count"), [7, -1], name)
            if name == "legacy.pth" {
                // The view covers elements 3..5 of storage 10; offset 1 within it → [4, 5].
                XCTAssertEqual(try w.tensor("prior.view").toArray(), [4, 5])
            }
            XCTAssertEqual(w.metadata["step"], "12")
            let hps = try ModelConfig.load(folder: out).hps
            XCTAssertEqual(try hps.int("prior_width"), 3)
            XCTAssertEqual(try hps.ints("downs_t"), [3, 2])
            XCTAssertEqual(try hps.double("lr"), 2.5)
            XCTAssertEqual(try hps.int("n_ctx"), 1024, "keys the checkpoint lacks come from the reference defaults")
        }
    }

    func testMissingOrUnusableHpsNeedAPreset() throws {
        let dir = temporaryFolder(self)
        let labels = try Fixtures.labelsFolder()
        for (name, hps) in [("none", nil), ("string", TorchFileBuilder.Value.str("oops")),
                            ("tuple-key", .dict([("a", .tuple([.int(1)]))]))] as [(String, TorchFileBuilder.Value?)] {
            let path = dir + "/\(name).pth"
            try Data(Self.smallCheckpoint(hps: hps)).write(to: URL(fileURLWithPath: path))
            if name == "tuple-key" { continue }  // tuples are fine hps values; checked below
            XCTAssertThrowsError(try CheckpointConverter.convert(input: path, output: dir + "/out", preset: nil, labelsDirectory: nil)) {
                XCTAssertTrue("\($0)".hasPrefix(path), "\($0)")
                XCTAssertTrue("\($0)".contains("name a preset"), "\($0)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
            let summary = try CheckpointConverter.convert(input: path, output: dir + "/out-\(name)", preset: "prior_1b_lyrics",
                                                          labelsDirectory: labels)
            XCTAssertEqual(summary.labels, "v3")
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out-\(name)/" + LabelVocabulary.artistsFileName),
                           FileManager.default.contents(atPath: labels + "/v3_artist_ids.txt"))
            XCTAssertEqual(try ModelConfig.load(folder: dir + "/out-\(name)").hps.int("n_ctx"), 6144)
        }
    }

    // MARK: - Atomic output

    func testFailedConversionLeavesNoTraceAndReconversionReplacesFiles() throws {
        let dir = temporaryFolder(self)
        let good = dir + "/good.pth", bad = dir + "/bad.pth"
        let bytes = Self.smallCheckpoint(hps: .dict([("labels", .bool(true))]))
        try Data(bytes).write(to: URL(fileURLWithPath: good))
        try Data(bytes.prefix(bytes.count - 3)).write(to: URL(fileURLWithPath: bad))
        let out = dir + "/model"
        // Truncated input: nothing is created.
        XCTAssertThrowsError(try CheckpointConverter.convert(input: bad, output: out, preset: nil, labelsDirectory: nil)) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
        // A missing label list fails after the weights were streamed: still nothing is left.
        XCTAssertThrowsError(try CheckpointConverter.convert(input: good, output: out, preset: nil, labelsDirectory: dir + "/nolabels")) {
            XCTAssertTrue("\($0)".contains("v2_artist_ids.txt"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["bad.pth", "good.pth"])
        // A conversion into an existing folder replaces our files and keeps others.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        try Data("stale".utf8).write(to: URL(fileURLWithPath: out + "/" + LabelVocabulary.artistsFileName))
        let summary = try CheckpointConverter.convert(input: good, output: out, preset: nil, labelsDirectory: nil)
        XCTAssertEqual(summary.tensorCount, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["config.json", "notes.txt", "weights.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["bad.pth", "good.pth", "model"])
        // Failing into an existing folder leaves it as it was.
        let before = FileManager.default.contents(atPath: out + "/weights.safetensors")
        XCTAssertThrowsError(try CheckpointConverter.convert(input: bad, output: out, preset: nil, labelsDirectory: nil))
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/weights.safetensors"), before)
        XCTAssertNoThrow(try ModelConfig.load(folder: out))
    }

    /// Converts a synthetic fp16 checkpoint of JUKEBOX_BIG_CONVERT_GB gigabytes and reports the peak
    /// anonymous memory (heap) seen while converting: it stays at a few chunks, whatever the size.
    func testLargeCheckpointConvertsWithBoundedMemory() throws {
        guard let gb = ProcessInfo.processInfo.environment["JUKEBOX_BIG_CONVERT_GB"].flatMap(Double.init) else {
            throw XCTSkip("set JUKEBOX_BIG_CONVERT_GB=2 to convert a large synthetic checkpoint")
        }
        let dir = temporaryFolder(self)
        let rows = 8192, cols = 4096, perTensor = rows * cols  // 64 MB of fp16 each
        let n = max(1, Int(gb * 1e9) / (perTensor * 2))
        let model: [(String, TorchFileBuilder.Value)] = (0..<n).map {
            ("module.prior.w\($0)", .tensor(.init(storage: "\($0)", dtype: "HalfStorage", storageCount: perTensor,
                                                  size: [rows, cols], stride: [cols, 1])))
        }
        let path = dir + "/big.pth"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.write(Data(TorchFileBuilder.legacyHeader(.dict([("hps", Self.smallHps), ("model", .orderedDict(model))]),
                                                        keys: (0..<n).map { "\($0)" })))
        let pattern = (0..<perTensor / 16).map { HalfPrecision.f32ToF16(Float($0 % 2048) / 1024 - 1) }
        for _ in 0..<n {
            var count = UInt64(perTensor).littleEndian
            handle.write(Data(bytes: &count, count: 8))
            let block = pattern.withUnsafeBytes { Data($0) }
            for _ in 0..<16 { handle.write(block) }
        }
        try handle.close()

        let sampler = MemorySampler()
        let before = Self.residentAnonymousKB()
        sampler.start()
        let start = Date()
        let summary = try CheckpointConverter.convert(input: path, output: dir + "/out", preset: nil, labelsDirectory: nil)
        let seconds = Date().timeIntervalSince(start)
        let (peakAnon, samples) = sampler.stop()
        XCTAssertEqual(summary.tensorCount, n)
        let w = try SafetensorsFile(path: dir + "/out/weights.safetensors")
        let last = try w.tensor("prior.w\(n - 1)")
        for i in [0, 1, 2047, 2048, perTensor / 16 + 5, perTensor - 1] {
            XCTAssertEqual(last[i], Float(i % (perTensor / 16) % 2048) / 1024 - 1)
        }
        print("converted \(n) × 64 MB fp16 in \(seconds) s; anonymous memory \(before / 1024) MB before, "
              + "peak \(peakAnon / 1024) MB over \(samples) samples")
        XCTAssertLessThan(peakAnon - before, 256 * 1024, "conversion memory must not grow with the checkpoint")
    }

    /// Samples RssAnon every 10 ms on a background thread.
    final class MemorySampler: @unchecked Sendable {
        private let lock = NSLock()
        private var peak = 0, samples = 0, running = true
        private var thread: Thread?

        func start() {
            let t = Thread { [self] in
                while true {
                    let kb = ConvertTests.residentAnonymousKB()
                    lock.lock()
                    peak = max(peak, kb); samples += 1
                    let go = running
                    lock.unlock()
                    if !go { return }
                    usleep(10_000)
                }
            }
            thread = t
            t.start()
        }

        func stop() -> (peakKB: Int, samples: Int) {
            lock.lock(); running = false; lock.unlock()
            usleep(30_000)
            lock.lock(); defer { lock.unlock() }
            return (peak, samples)
        }
    }

    static func residentAnonymousKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    // MARK: - Corrupt and truncated checkpoints

    /// Opens `bytes` as a checkpoint and reads every tensor; any failure must be one line naming the file.
    func openAll(_ bytes: [UInt8], path: String) -> Error? {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let ckpt = try TorchCheckpoint(path: path)
            guard let model = ckpt.root["model"]?.dictEntries else { return nil }
            for e in model {
                if case .tensor(let t) = e.value {
                    try ckpt.stream(t, as: TorchCheckpoint.outputType(for: t.dtype)) { _ in }
                }
            }
            return nil
        } catch {
            return error
        }
    }

    func assertOneLine(_ error: Error?, _ path: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return }
        let text = "\(error)"
        XCTAssertTrue(error is JukeboxError, "\(what): \(type(of: error))", file: file, line: line)
        XCTAssertTrue(text.hasPrefix(path), "\(what): \(text)", file: file, line: line)
        XCTAssertFalse(text.contains("\n"), "\(what): \(text)", file: file, line: line)
    }

    func testTruncatedFixtureCheckpointsGiveOneLineErrors() throws {
        let dir = temporaryFolder(self)
        for (fixture, fileName) in [("vqvae", "checkpoint_legacy.pth.tar"), ("vqvae", "checkpoint_zip.pth.tar"),
                                    ("prior_top_5b_lyrics", "checkpoint_fp16_legacy.pth.tar")] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.folder(fixture) + "/" + fileName)))
            let path = dir + "/cut-" + fileName
            var cuts = [0, 1, 2, 14, 15, 20, 100, 136, 137, 200, 4000, bytes.count / 4, bytes.count / 2, bytes.count - 100,
                        bytes.count - 8, bytes.count - 1]
            cuts += (0..<8).map { bytes.count * ($0 * 2 + 1) / 17 }
            for cut in cuts {
                let error = openAll(Array(bytes.prefix(cut)), path: path)
                XCTAssertNotNil(error, "\(fileName) cut at \(cut) of \(bytes.count) was accepted")
                assertOneLine(error, path, "\(fileName) cut at \(cut)")
            }
        }
    }

    func testCorruptedFixtureCheckpointsNeverCrash() throws {
        let dir = temporaryFolder(self)
        var rng = SplitMix(seed: 7)
        var rejected = 0, total = 0
        for (fixture, fileName) in [("vqvae", "checkpoint_legacy.pth.tar"), ("vqvae", "checkpoint_zip.pth.tar"),
                                    ("prior_top_5b_lyrics", "checkpoint_fp16_legacy.pth.tar")] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.folder(fixture) + "/" + fileName)))
            let path = dir + "/flip-" + fileName
            for round in 0..<12 {
                var bytes = original
                // Corrupt the structure (the first pickles, the zip directory at the end) as well as the data.
                let region = round % 3 == 0 ? 0..<min(4096, bytes.count) : round % 3 == 1 ? max(0, bytes.count - 30000)..<bytes.count
                    : 0..<bytes.count
                for _ in 0..<(1 + rng.below(8)) {
                    bytes[region.lowerBound + rng.below(region.count)] ^= UInt8(1 << rng.below(8))
                }
                let error = openAll(bytes, path: path)
                total += 1
                if error != nil { rejected += 1 }
                assertOneLine(error, path, "\(fileName) round \(round)")
            }
        }
        print("corrupted fixtures: \(rejected) of \(total) rejected, the rest parsed (flips in raw data are undetectable)")
    }

    func testFuzzEntryNeverCrashesOnMutatedCheckpoints() throws {
        var rng = SplitMix(seed: 3)
        let seeds = [Self.smallCheckpoint(hps: Self.smallHps), Self.smallCheckpoint(hps: Self.smallHps, zip: true),
                     Self.smallCheckpoint(hps: nil, zip: true, zip64: true)]
        var opened = 0
        let start = Date()
        for i in 0..<Mutator.iterations {
            var bytes = seeds[i % seeds.count]
            Mutator.mutate(&bytes, &rng)
            bytes.withUnsafeBytes { fuzzTorchCheckpoint($0) }
            if (try? TorchCheckpoint(bytes: bytes)) != nil { opened += 1 }
        }
        print("fuzzTorchCheckpoint: \(opened) of \(Mutator.iterations) mutated checkpoints opened, \(Date().timeIntervalSince(start)) s")
    }
}
