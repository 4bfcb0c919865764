import Foundation

extension Generator {
    /// Extends one level's codes to the prompt's sample length and nothing else: the continuation
    /// mode restricted to a single level, so co-composition can draw top-level candidates without
    /// upsampling every one of them. Rows of `codes` are repeated for every sample when it has one row.
    /// The result holds only `level`'s codes (rows = samples); `cancelled` keeps what was sampled.
    public func continueLevel(_ prompt: GenerationPrompt, level: Int, codes: LevelCodes, cancel: CancelFlag? = nil,
                              events: ((GenerationEvent) -> Void)? = nil) throws -> (codes: LevelCodes, cancelled: Bool) {
        let emit = events ?? { _ in }
        let levelsCount = models.vqvae.levels
        var rows = [[[Int]]](repeating: [[Int]](repeating: [], count: max(prompt.samples, 0)), count: levelsCount)
        do {
            guard level >= 0, level < levelsCount else { throw JukeboxError("levels", "level \(level) is outside 0..<\(levelsCount)") }
            try validate(prompt)
            guard level == models.topLevel else {
                throw JukeboxError("levels", "only the top level (\(models.topLevel)) continues alone; level \(level) needs the level above")
            }
            rows[level] = try Self.rows(codes, samples: prompt.samples, what: "level \(level) codes")
            // The kept codes seed the renderer, so a window reaching back into them decodes whole.
            let sampling = prompt.renderWhileSampling ? try renderingEmitter(emit, rows: rows, samples: prompt.samples) : emit
            try sampleLevels([level], prompt: prompt, rows: &rows, cancel: cancel, emit: sampling)
        } catch is Cancelled {
            emit(.cancelled)
            return (Self.levelCodes(rows)[level], true)
        } catch {
            emit(.failed("\(error)"))
            throw error
        }
        return (Self.levelCodes(rows)[level], false)
    }
}
