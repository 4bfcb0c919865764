import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The tiny random model set written to disk and loaded, with a prompt whose labels and lyrics went
/// through the set's Labeller: the starting point of every whole-pipeline sampling test.
func tinyModelSet(_ test: XCTestCase, setSeed: UInt64, artist: String, genre: String, lyrics: String,
                  totalSeconds: Int, sampleLength: Int, seed: UInt64, samples: Int, chunkSize: Int) throws
    -> (ModelSet, GenerationPrompt) {
    let folder = temporaryFolder(test) + "/set"
    try RandomModelSet.write(preset: .tiny, seed: setSeed, to: folder)
    let set = try ModelSet.load(folder)
    let top = try set.prior(level: set.topLevel)
    let labeller = Labeller(vocabulary: try XCTUnwrap(set.vocabularies[set.topLevel]), layout: try LabelLayout(hps: top.hps),
                            sampleLength: top.nCtx * set.vqvae.hopLengths[set.topLevel])
    let song = try labeller.resolve(artist: artist, genre: genre, lyrics: lyrics, totalLength: 44100 * totalSeconds).song
    var p = GenerationPrompt(artistID: song.artistID, genreIDs: song.genreIDs, lyricTokens: song.fullTokens,
                             totalLength: song.totalLength, sampleLength: sampleLength,
                             settings: [SamplingSettings(temperature: 0.99)], seed: seed, samples: samples)
    p.chunkSize = chunkSize
    return (set, p)
}
