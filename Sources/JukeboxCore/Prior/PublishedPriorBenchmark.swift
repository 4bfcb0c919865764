import Foundation

/// Sampling speed of the published Jukebox priors' exact architectures (random weights) in a weight format,
/// beside the memory roofline measured in the same run: the figures `bench prior --preset` prints.
public enum PublishedPriorBenchmark {
    public enum Preset: String, CaseIterable, Sendable {
        case upsampler, oneBLyrics = "1b_lyrics", fiveB = "5b", fiveBLyrics = "5b_lyrics"

        /// The converter's preset with this architecture (the two upsamplers share one).
        var hpsPreset: String {
            switch self {
            case .upsampler: "upsampler_level_1"
            case .oneBLyrics: "prior_1b_lyrics"
            case .fiveB: "prior_5b"
            case .fiveBLyrics: "prior_5b_lyrics"
            }
        }

        public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    /// Codes of one minute of audio at 44.1 kHz, per level (hops 8, 32, 128).
    public static let codesPerMinute: [Int: Double] = [0: 44100.0 * 60 / 8, 1: 44100.0 * 60 / 32, 2: 44100.0 * 60 / 128]

    public struct Result: Sendable {
        public let preset: Preset
        public let format: WeightFormat
        public let batch: Int
        public let context: Int
        public let steps: Int
        public let seconds: Double
        public let parameters: Int
        /// Bytes of the transformer matrices and the output layer, read once per step.
        public let weightBytes: Int
        /// Bytes of keys and values attention read per step (over the batch).
        public let cacheBytesPerStep: Int
        public let cacheBytes: Int
        public let residentBytes: Int
        public let peakResidentBytes: Int
        public let bandwidth: Double
        public let isa: String
        public let threads: Int
        /// The upsampler's rate measured in the same run for a top prior's hours per minute.
        public let upsamplerTokensPerSecond: Double?
        /// The batch sizes measured in turns with this one (this one alone: [batch]).
        public let interleavedBatches: [Int]

        public var tokensPerSecond: Double { Double(steps * batch) / seconds }

        func with(upsamplerTokensPerSecond rate: Double) -> Result {
            Result(preset: preset, format: format, batch: batch, context: context, steps: steps, seconds: seconds,
                   parameters: parameters, weightBytes: weightBytes, cacheBytesPerStep: cacheBytesPerStep,
                   cacheBytes: cacheBytes, residentBytes: residentBytes, peakResidentBytes: peakResidentBytes,
                   bandwidth: bandwidth, isa: isa, threads: threads, upsamplerTokensPerSecond: rate,
                   interleavedBatches: interleavedBatches)
        }
        public var bytesPerStep: Int { weightBytes + cacheBytesPerStep }
        /// Tokens per second if every step only streamed its bytes at the measured bandwidth.
        public var rooflineTokensPerSecond: Double { bandwidth / Double(max(bytesPerStep, 1)) * Double(batch) }
        public var bandwidthUsed: Double { Double(bytesPerStep) * Double(steps) / seconds }
        public var rooflineFraction: Double { tokensPerSecond / rooflineTokensPerSecond }

        /// Hours to sample one minute of fully upsampled audio at these rates, counting sampled tokens only
        /// (the windows' re-priming forward passes come on top).
        public var hoursPerMinute: Double {
            let lower = (codesPerMinute[0]! + codesPerMinute[1]!)
            if preset == .upsampler { return lower / tokensPerSecond / 3600 }
            let up = upsamplerTokensPerSecond ?? .nan
            return (codesPerMinute[2]! / tokensPerSecond + lower / up) / 3600
        }

        public var json: [String: Any] {
            var out: [String: Any] = [
                "preset": preset.rawValue, "format": format.rawValue, "batch": batch, "context": context,
                "tokens": steps * batch, "steps": steps, "seconds": seconds, "parameters": parameters,
                "tokens_per_second": tokensPerSecond, "resident_bytes": residentBytes,
                "peak_resident_bytes": peakResidentBytes, "cache_bytes": cacheBytes,
                "weight_bytes_per_step": weightBytes, "cache_bytes_read_per_step": cacheBytesPerStep,
                "bandwidth_bytes_per_second": bandwidth, "bandwidth_used_bytes_per_second": bandwidthUsed,
                "roofline_tokens_per_second": rooflineTokensPerSecond, "roofline_fraction": rooflineFraction,
                "hours_per_minute": hoursPerMinute, "isa": isa, "threads": threads,
                "cpu": WeightKernels.cpu, "tuning": WeightKernels.tuning, "blas_core": BLAS.core,
            ]
            if let upsamplerTokensPerSecond { out["upsampler_tokens_per_second"] = upsamplerTokensPerSecond }
            if interleavedBatches.count > 1 { out["measured_in_turns_with_batches"] = interleavedBatches }
            return out
        }

        public var description: String {
            String(format: "%@ %@ batch %d, context %d: %.1f tokens/s (%d steps in %.2f s); %.2f GB a step (weights %.2f, cache %.3f); "
                   + "memory read %.1f GB/s measured, roofline %.1f tokens/s, %.0f%% of it; resident %.2f GB (peak %.2f); "
                   + "%.1f hours a minute of audio; %@, %@ settings", preset.rawValue, format.rawValue, batch, context, tokensPerSecond,
                   steps, seconds, Double(bytesPerStep) / 1e9, Double(weightBytes) / 1e9, Double(cacheBytesPerStep) / 1e9,
                   bandwidth / 1e9, rooflineTokensPerSecond, 100 * rooflineFraction, Double(residentBytes) / 1e9,
                   Double(peakResidentBytes) / 1e9, hoursPerMinute, WeightKernels.cpu, WeightKernels.tuning)
        }
    }

    public static func hps(_ preset: Preset) throws -> Hyperparameters {
        let bytes = try HyperparameterJSON.config(kind: .prior, hps: HyperparameterPresets.hps(preset.hpsPreset))
        return try ModelConfig.parse(Data(bytes), source: "preset \(preset.rawValue)").hps
    }

    /// Bytes the model's weights take in `format`: its transformer matrices packed, the rest float32.
    public static func weightBytes(_ specs: [ParameterSpec], format: WeightFormat) -> (total: Int, matrices: Int) {
        var total = 0, matrices = 0
        for s in specs {
            if case .sameAs = s.initial { continue }
            let isMatrix = ResAttnBlockWeights.isMatrix(s)
            let bytes = isMatrix ? format.forMatrix(nIn: s.shape[0], nOut: s.shape[1]).matrixBytes(nOut: s.shape[1], nIn: s.shape[0])
                : 4 * s.count
            total += bytes
            if isMatrix { matrices += bytes }
        }
        return (total, matrices)
    }

    /// Samples `tokens` steps of `batch` items after filling the key/value cache with `context` positions;
    /// for a top prior, the upsampler's rate too (once the top prior's memory is free again).
    public static func run(preset: Preset, format: WeightFormat, batch: Int, context: Int, tokens: Int,
                           seed: UInt64 = 0, progress: ((String) -> Void)? = nil) throws -> Result {
        try run(preset: preset, format: format, batches: [batch], context: context, tokens: tokens, seed: seed,
                progress: progress)[0]
    }

    /// The same for several batch sizes of one model, measured in turns (a block of steps of each, each block
    /// after its own bandwidth measurement), so that the machine's drift reaches every batch size and its
    /// roofline alike and their ratios compare like with like.
    public static func run(preset: Preset, format: WeightFormat, batches: [Int], context: Int, tokens: Int,
                           seed: UInt64 = 0, progress: ((String) -> Void)? = nil) throws -> [Result] {
        let top = try measure(preset: preset, format: format, batches: batches, context: context, tokens: tokens,
                              seed: seed, progress: progress)
        guard preset != .upsampler else { return top }
        progress?("measuring the upsampler for the hours per minute")
        let up = try measure(preset: .upsampler, format: format, batches: batches, context: 0, tokens: min(tokens, 64),
                             seed: seed, progress: nil)
        return zip(top, up).map { $0.with(upsamplerTokensPerSecond: $1.tokensPerSecond) }
    }

    /// Blocks of steps each batch size's timing is made of (at least 8 steps a block).
    static func rounds(tokens: Int) -> Int { max(1, min(8, tokens / 8)) }

    static func measure(preset: Preset, format: WeightFormat, batches: [Int], context: Int, tokens: Int, seed: UInt64,
                        progress: ((String) -> Void)?) throws -> [Result] {
        let h = try hps(preset)
        let config = try PriorConfig(hps: h)
        let specs = try Prior.parameters(config: config)
        guard !batches.isEmpty, batches.allSatisfy({ $0 >= 1 && $0 <= 64 }) else {
            throw JukeboxError("--batch", "must be 1 to 64, got \(batches.map(String.init).joined(separator: ", "))")
        }
        guard context >= 0, tokens >= 1, context + tokens <= config.nCtx else {
            throw JukeboxError("--context", "context \(context) plus \(tokens) tokens must fit the window of \(config.nCtx) codes")
        }
        let sizes = weightBytes(specs, format: format)
        let xOutBytes = config.prior.onlyEncode ? 0 : 4 * config.prior.bins * config.width
        let probeBytes = min(sizes.matrices + xOutBytes, 2 << 30)
        if let available = MemoryInfo.availableBytes, sizes.total + probeBytes > available * 9 / 10 {
            throw JukeboxError("bench prior", String(format: "%@ in %@ needs %.1f GB of weights (and %.1f GB to measure the memory) but only %.1f GB of memory is free",
                                                     preset.rawValue, format.rawValue, Double(sizes.total) / 1e9,
                                                     Double(probeBytes) / 1e9, Double(available) / 1e9))
        }
        // The roofline is read over a buffer as large as a step's weights (up to 2 GB, far past the caches),
        // made before the model and read again before every block of steps.
        progress?("measuring memory bandwidth")
        let probe = BandwidthProbe(bytes: probeBytes)
        progress?(String(format: "making random %@ weights (%.2f GB)", format.rawValue, Double(sizes.total) / 1e9))
        let prior = try Prior(config: config, source: .random(seed: seed, format: format))
        let parameters = try Prior.parameterCount(hps: h)
        // Each batch size's state is made in turn; what each adds to the resident memory is its own (caches,
        // conditioning), so each result can report what the model and that batch alone hold.
        let modelResident = MemoryInfo.residentBytes
        var stateBytes: [Int] = []
        let runs = try batches.map { batch in
            let before = MemoryInfo.residentBytes
            let run = try Run(prior: prior, config: config, batch: batch, context: context, seed: seed, progress: progress)
            stateBytes.append(MemoryInfo.residentBytes - before)
            return run
        }
        progress?("sampling \(tokens) steps" + (batches.count > 1 ? " of each batch size in turns" : ""))
        let rounds = rounds(tokens: tokens)
        var rng = SeededGenerator(seed: seed + 1)
        // One untimed step of each batch size first, where the window has room for it: the first step meets
        // the caches, the scratch buffers and the pool's threads cold, which a short measurement (the
        // upsampler's for a top prior's hours) should not carry.
        if context + tokens < config.nCtx {
            for run in runs { try run.warmUp(prior: prior, config: config, rng: &rng) }
        }
        for r in 0..<rounds {
            let steps = tokens * (r + 1) / rounds - tokens * r / rounds
            for run in runs {
                run.bandwidths.append(probe.measure())
                try run.sample(steps: steps, prior: prior, config: config, rng: &rng)
            }
        }
        let weights = prior.prior.transformer.matrixBytes + xOutBytes
        // The probe's buffer is not the model's, nor are the other batch sizes' states: both are left out of
        // each result's memory (what sampling grew besides, scratch buffers, is counted in every one).
        let resident = MemoryInfo.residentBytes, peak = MemoryInfo.peakResidentBytes
        let grown = max(0, resident - modelResident - stateBytes.reduce(0, +))
        return zip(runs, stateBytes).map { run, own in
            let others = stateBytes.reduce(0, +) - own
            return Result(preset: preset, format: format, batch: run.batch, context: context, steps: tokens, seconds: run.seconds,
                   parameters: parameters, weightBytes: weights, cacheBytesPerStep: run.cacheBytesPerStep(steps: tokens),
                   cacheBytes: run.state.cacheBytes, residentBytes: modelResident - probe.bytes + own + grown,
                   peakResidentBytes: peak - probe.bytes - others,
                   bandwidth: run.bandwidths.reduce(0, +) / Double(run.bandwidths.count), isa: WeightKernels.isa,
                   threads: WeightKernels.threads, upsamplerTokensPerSecond: nil, interleavedBatches: batches)
        }
    }

    /// One batch size's sampling state and its timings so far.
    final class Run {
        let batch: Int
        let state: PriorState
        var previous: [Int]
        var seconds = 0.0
        var bandwidths: [Double] = []
        var readBefore: Int

        init(prior: Prior, config: PriorConfig, batch: Int, context: Int, seed: UInt64,
             progress: ((String) -> Void)?) throws {
            self.batch = batch
            var y: [Int]? = nil
            if config.labels {
                var rows: [Int] = []
                for n in 0..<batch {
                    var row = [Int](repeating: 0, count: config.labelLength)
                    row[0] = 240 * 44100; row[1] = 60 * 44100; row[2] = config.nCtx * (8 << (2 * config.level))  // hops 8, 32, 128
                    row[3] = n % 100
                    for g in 0..<config.maxBowGenreSize { row[4 + g] = g == 0 ? 3 : -1 }
                    rows += row
                }
                y = rows
            }
            var xCond: Tensor? = nil
            if config.conditionsOnLevelAbove {
                let x = Tensor(zeros: [batch, config.nCtx, config.width])
                var rng = SeededGenerator(seed: seed + 7)
                rng.fill(x.data, x.count, std: 0.1)
                xCond = x
            }
            state = try prior.makeState(batch: batch, y: y, xCond: xCond)
            if context > 0 {
                // What a step costs at position N depends on what the caches hold, not on its values: random keys
                // and values stand in for a forward pass over N positions (minutes for a 5B model).
                progress?("filling the cache of batch \(batch) with \(context) random positions")
                state.inner.fillWithRandom(positions: context, seed: seed + 3)
            }
            previous = [Int](repeating: 0, count: batch)
            readBefore = state.inner.transformer.cacheBytesRead
        }

        func sample(steps: Int, prior: Prior, config: PriorConfig, rng: inout SeededGenerator) throws {
            let bins = prior.prior.bins, offset = config.codeOffset
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                let logits = try prior.forward(state, previousCodes: previous, count: 1, output: .lastLogits)!
                for n in 0..<batch {
                    previous[n] = PriorBenchmark.sampleCategorical(logits.data + n * bins + offset, config.lBins,
                                                                   uniform: Double(rng.next() >> 11) * 0x1p-53)
                }
            }
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }

        /// One step left out of the timings and of the bytes read.
        func warmUp(prior: Prior, config: PriorConfig, rng: inout SeededGenerator) throws {
            let seconds = self.seconds
            try sample(steps: 1, prior: prior, config: config, rng: &rng)
            self.seconds = seconds
            readBefore = state.inner.transformer.cacheBytesRead
        }

        func cacheBytesPerStep(steps: Int) -> Int { (state.inner.transformer.cacheBytesRead - readBefore) / steps }
    }
}

/// The process's memory as the kernel counts it (Linux /proc).
public enum MemoryInfo {
    static func field(_ file: String, _ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmRSS:\t  4129880 kB" (the tab and spaces vary with the number's width)
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }

    public static var residentBytes: Int { field("/proc/self/status", "VmRSS") ?? 0 }
    public static var peakResidentBytes: Int { field("/proc/self/status", "VmHWM") ?? 0 }
    public static var availableBytes: Int? { field("/proc/meminfo", "MemAvailable") }
    /// Starts the peak (VmHWM) again from the current resident memory, so a phase's own peak can be read.
    public static func resetPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }
}
