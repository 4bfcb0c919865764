import Foundation

extension Encoder {
    /// How far, in audio samples, the inputs one output reads can spread: each convolution widens it by
    /// (K − 1)·dilation of its input's steps, and strides make later steps longer.
    var reach: Int {
        var reach = 0, step = 1
        func widen(_ conv: Conv1DLayer) {
            reach += (conv.k - 1) * conv.dilation * step
            step *= conv.stride
        }
        for block in levelBlocks {
            for (conv, resnet) in block.downs {
                widen(conv)
                resnet.blocks.forEach { widen($0.conv3); widen($0.conv1) }
            }
            widen(block.out)
        }
        return reach
    }
}

extension VQVAE {
    /// Audio on each side of a window that a level's encoder reads beyond it, in whole top-level hops:
    /// outputs this far from a window's edges do not see its zero padding. (The published level 0, with
    /// dilations up to 3^7, reads about 2 s each way; levels 1 and 2 a fraction of that.)
    public func encoderMargin(level: Int) -> Int {
        let hop = hopLengths.max() ?? 1
        return (encoders[level].reach + hop + hop - 1) / hop * hop
    }

    /// The widest level's margin: the audio kept beyond a window.
    public var encoderMargin: Int { (0..<levels).map(encoderMargin(level:)).max() ?? 0 }

    /// Every level's codes of a recording read in windows: each window of `chunkSamples` (rounded to whole
    /// top-level hops) is encoded with its level's margin of its neighbours on each side and only its
    /// own codes kept, so the codes equal the whole recording's (up to the rounding of a different summation
    /// order, which can flip a code whose two nearest entries are equally near) while memory stays that of
    /// one window. Like the reference, the end is cut to whole top-level codes. `progress` is told the
    /// samples encoded so far.
    public func encode(reader: AudioReader, chunkSamples: Int = 1 << 19,
                       progress: (Int) -> Void = { _ in }) throws -> (samples: Int, codes: [LevelCodes]) {
        guard reader.sampleRate == sampleRate else {
            throw JukeboxError(reader.path, "read at \(reader.sampleRate) Hz, the VQ-VAE needs \(sampleRate) Hz")
        }
        let hop = hopLengths.max() ?? 1, margin = encoderMargin
        let chunk = max(chunkSamples / hop, 1) * hop
        var audio: [Float] = []        // samples from audioStart on
        var audioStart = 0
        var ended = false
        var codes = [[Int]](repeating: [], count: levels)
        var start = 0                  // the next window's first sample
        while true {
            // Enough audio for the window and its right margin, or all there is.
            while !ended && audioStart + audio.count < start + chunk + margin {
                if let block = try reader.next() { audio.append(contentsOf: block) } else { ended = true }
            }
            let available = audioStart + audio.count
            let usable = ended ? available / hop * hop : available
            let end = min(start + chunk, usable)
            guard end > start else { break }
            for level in 0..<levels {
                let reach = encoderMargin(level: level)
                let lo = max(start - reach, 0), hi = min(end + reach, usable)
                let x = Tensor(shape: [1, hi - lo, 1], values: Array(audio[(lo - audioStart)..<(hi - audioStart)]))
                let h = hopLengths[level]
                let z = try codebooks[level].encode(encoderOutput(x, level: level))
                codes[level].append(contentsOf: z.values[((start - lo) / h)..<((end - lo) / h)])
            }
            start = end
            progress(start)
            // Keep only the next window's left margin.
            let drop = max(start - margin, audioStart) - audioStart
            audio.removeFirst(drop)
            audioStart += drop
        }
        guard start > 0 else {
            throw JukeboxError(reader.path, "shorter than one top-level code (\(hop) samples at \(sampleRate) Hz)")
        }
        return (start, try codes.map { try LevelCodes(n: 1, t: $0.count, values: $0) })
    }
}
