import Foundation

/// One level, window by window: context tokens primed into the key/value cache in chunks, the rest
/// sampled one position at a time for every sample together.
extension Generator {
    func plan(level: Int, model: PriorModel, prompt: GenerationPrompt, existing: Int) throws -> WindowPlan {
        let hops = models.vqvae.hopLengths
        let fraction = level < prompt.hopFraction.count ? prompt.hopFraction[level] : 0.5
        let condDownsample = level < models.topLevel ? hops[level + 1] / hops[level] : nil
        return try WindowPlan(level: level, nCtx: model.nCtx, hopFraction: fraction,
                              totalTokens: prompt.sampleLength / hops[level], existingTokens: existing,
                              rawToTokens: hops[level], condDownsample: condDownsample)
    }

    func sampleLevel(_ level: Int, model: PriorModel, prompt: GenerationPrompt, rows: inout [[[Int]]],
                     cancel: CancelFlag?, checkpoint: Checkpoint? = nil, emit: (GenerationEvent) -> Void) throws {
        let existing = rows[level].map(\.count).min() ?? 0
        guard rows[level].allSatisfy({ $0.count == existing }) else {
            throw JukeboxError("codes", "level \(level) rows have different lengths")
        }
        let plan = try plan(level: level, model: model, prompt: prompt, existing: existing)
        // Counted once from this level's codes there before its first window: later windows see sampled codes
        // as their context, but the groove to keep is the prime's. Every level: the upsamplers, given a top level
        // that keeps the beat, still lose most of it unless their own codes are pulled to their places too.
        let hop = models.vqvae.hopLengths[level]
        let primeGuides: [PrimeGuide?]? = prompt.primeGuidance > 0 && existing > 0
            ? prompt.barClock.map { clock in
                rows[level].map { PrimeGuide(primeCodes: $0[...], codes: model.prior.config.lBins, clock: clock, hop: hop, offset: prompt.offset) }
            }
            : nil
        var progress = Progress(level: level, total: plan.tokensToSample, samples: prompt.samples)
        for window in plan.windows where window.toSample > 0 {
            emit(.windowStarted(level: level, index: window.index, start: window.start, length: window.length))
            try sampleWindow(window, level: level, model: model, prompt: prompt, primeGuides: primeGuides, rows: &rows,
                             progress: &progress, cancel: cancel, emit: emit)
            emit(.windowFinished(level: level, index: window.index, start: window.start, length: window.length))
            try checkpoint?(Self.levelCodes(rows))
        }
        progress.report(emit, force: true)
    }

    /// The label rows y for a window (prior.get_y), the same for every sample; nil without labels.
    func labels(_ model: PriorModel, prompt: GenerationPrompt, window: WindowPlan.Window, rawToTokens: Int) throws -> [Int]? {
        let c = model.prior.config
        guard c.labels else { return nil }
        let layout = c.labelLayout
        let song = SongLabels(artistID: prompt.artistID, genreIDs: prompt.genreIDs, fullTokens: prompt.lyricTokens,
                              totalLength: prompt.totalLength, offset: prompt.offset, barClock: prompt.barClock)
        let y = try LabelVector.forWindow(song, start: window.start, rawToTokens: rawToTokens,
                                          sampleLength: c.nCtx * rawToTokens, layout: layout).y
        try LabelVector.validate(y, layout: layout, artistBins: c.yBins[1], genreBins: c.yBins[0],
                                 nVocab: c.nTokens > 0 ? c.nVocab : 0)
        return Array([[Int]](repeating: y, count: prompt.samples).joined())
    }

    private func sampleWindow(_ window: WindowPlan.Window, level: Int, model: PriorModel, prompt: GenerationPrompt,
                              primeGuides: [PrimeGuide?]?, rows: inout [[[Int]]], progress: inout Progress,
                              cancel: CancelFlag?, emit: (GenerationEvent) -> Void) throws {
        let n = prompt.samples, prior = model.prior, c = prior.config
        var xCond: Tensor? = nil
        if let span = window.conditioning {
            let above = rows[level + 1]
            guard above.allSatisfy({ $0.count >= span.upperBound }) else {
                throw JukeboxError("z_cond", "level \(level) window \(window.index) needs codes \(span) of level \(level + 1),"
                                   + " which has \(above.map(\.count).min() ?? 0)")
            }
            let values = Array(above.map { $0[span] }.joined())
            xCond = try model.xCond(zCond: LevelCodes(n: n, t: span.count, values: values), batch: n, length: c.nCtx)
        }
        let y = try labels(model, prompt: prompt, window: window, rawToTokens: models.vqvae.hopLengths[level])
        let state = try prior.makeState(batch: n, y: y, xCond: xCond)
        let start = window.start

        // Prime the cache with the context, chunk by chunk (primed_sample's split_chunks).
        var done = 0
        while done < window.existing {
            if cancel?.isCancelled == true { throw Cancelled() }
            let count = min(prompt.chunkSize, window.existing - done)
            var previous = [Int](repeating: 0, count: n * count)
            for s in 0..<n {
                for i in 0..<count where done + i > 0 { previous[s * count + i] = rows[level][s][start + done + i - 1] }
            }
            try prior.forward(state, previousCodes: previous, count: count, output: .none)
            done += count
        }

        let settings = prompt.settings(level: level)
        let bins = prior.prior.bins, offset = c.codeOffset
        let hop = models.vqvae.hopLengths[level]
        // The bar guide tilts the top level's codes toward where the artist's fall in the bar.
        let guide = prompt.barGuidance > 0 && c.isTopLevel ? models.barGuide.flatMap { g in prompt.barClock.map { (g, $0) } } : nil
        let strength = Float(prompt.barGuidance)
        // The genre's tilt is the same at every code: scaled once.
        let genreTilt = prompt.genreGuidance > 0 && c.isTopLevel
            ? models.barGuide?.genreRow(genre: prompt.genreIDs.first ?? -1).flatMap { $0.count == c.lBins ? $0.map { Float(prompt.genreGuidance) * $0 } : nil }
            : nil
        let primeStrength = Float(prompt.primeGuidance)
        var sampler = TokenSampler()
        var previous = [Int](repeating: 0, count: n)
        var values = [Int](repeating: 0, count: n)
        for p in window.existing..<window.length {
            if cancel?.isCancelled == true { throw Cancelled() }
            for s in 0..<n { previous[s] = p == 0 ? 0 : rows[level][s][start + p - 1] }
            guard let logits = try prior.forward(state, previousCodes: previous, count: 1, output: .lastLogits) else {
                throw JukeboxError("prior", "returned no logits")
            }
            // Every sample of the batch is at the same place in the bar.
            let tilt = guide.flatMap { g, clock in
                g.row(artist: prompt.artistID, bin: clock.bin(atSample: prompt.offset + (start + p) * hop, bins: g.bins))
            }.flatMap { $0.count == c.lBins ? $0 : nil }
            for s in 0..<n {
                // Only code tokens: for the single encoder-decoder the lyric vocabulary sits below codeOffset.
                var rng = SampleStreams.generator(seed: prompt.seed, level: level, sample: prompt.firstSampleIndex + s,
                                                  position: start + p)
                let row = logits.data + s * bins + offset
                // A NaN logit would draw code 0 forever (every comparison with it fails): weights that hold NaN
                // or infinities are named instead of sampling silence.
                guard !UnsafeBufferPointer(start: row, count: c.lBins).contains(where: { $0.isNaN || $0 == .infinity }) else {
                    throw JukeboxError(ModelSet.priorFolderName(level: level),
                                       "its logits are not numbers at code \(start + p): the prior's weights hold NaN or infinite values")
                }
                if let tilt { for (k, r) in zip(0..<c.lBins, tilt) { row[k] += strength * r } }
                if let genreTilt { for k in 0..<c.lBins { row[k] += genreTilt[k] } }
                if let clock = prompt.barClock, let guide = primeGuides?[s] {
                    for (k, r) in zip(0..<c.lBins, guide.row(atSample: prompt.offset + (start + p) * hop, clock: clock)) {
                        row[k] += primeStrength * r
                    }
                }
                values[s] = sampler.draw(row, count: c.lBins, settings: settings, rng: &rng)
                rows[level][s].append(values[s])
            }
            emit(.tokensSampled(level: level, samples: 0..<n, positions: (start + p)..<(start + p + 1), values: values))
            progress.advance(emit)
        }
    }
}

/// Tokens per second and time left for one level, reported at most every 100 ms.
struct Progress {
    let level: Int, total: Int, samples: Int
    var done = 0
    let began = DispatchTime.now().uptimeNanoseconds
    var lastReport: UInt64 = 0

    init(level: Int, total: Int, samples: Int) { (self.level, self.total, self.samples) = (level, total, samples) }

    mutating func advance(_ emit: (GenerationEvent) -> Void) {
        done += 1
        report(emit, force: false)
    }

    mutating func report(_ emit: (GenerationEvent) -> Void, force: Bool) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - lastReport >= 100_000_000 || done == total else { return }
        lastReport = now
        let seconds = max(Double(now - began) / 1e9, 1e-9)
        let rate = Double(done) / seconds
        emit(.progress(level: level, done: done, total: total, tokensPerSecond: rate * Double(samples),
                       eta: rate > 0 ? Double(total - done) / rate : 0))
    }
}
