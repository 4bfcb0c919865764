@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining
import XCTest

/// The pieces of the genre judge: spectra, features, the classifier and its confusion matrix.
final class GenreEvaluationTests: XCTestCase {
    func testFFTPowerEqualsTheDirectDFT() {
        var rng = SeededGenerator(seed: 2)
        for size in [2, 8, 64, 1024] {
            let x = (0..<size).map { _ in rng.nextNormal() }
            let fast = FFT(size: size).powerSpectrum(x)
            var worst = 0.0, scale = 0.0
            for k in 0...size / 2 {
                var re = 0.0, im = 0.0
                for n in 0..<size {
                    re += Double(x[n]) * cos(-2 * Double.pi * Double(k * n) / Double(size))
                    im += Double(x[n]) * sin(-2 * Double.pi * Double(k * n) / Double(size))
                }
                worst = max(worst, abs(Double(fast[k]) - (re * re + im * im)))
                scale = max(scale, re * re + im * im)
            }
            XCTAssertLessThan(worst / scale, 1e-5, "size \(size)")
        }
    }

    func testFeaturesSeeTimbreAndTempo() {
        let rate = 22050
        let sine = (0..<5 * rate).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
        var rng = SeededGenerator(seed: 1)
        let noise = (0..<5 * rate).map { _ in 0.1 * rng.nextNormal() }
        let a = AudioFeatures.extract(sine, sampleRate: rate), b = AudioFeatures.extract(noise, sampleRate: rate)
        XCTAssertEqual(a.count, AudioFeatures.count)
        XCTAssertTrue((a + b).allSatisfy(\.isFinite))
        let flatness = 2 * AudioFeatures.melBands + AudioFeatures.tempi.count + 2
        XCTAssertGreaterThan(b[flatness], 10 * a[flatness], "noise is flat, a sine is not")

        // Clicks at 120 bpm: the rhythm features peak at the 120 bpm lag (or its double), not between.
        var clicks = [Float](repeating: 0, count: 8 * rate)
        for beat in stride(from: 0, to: clicks.count - 200, by: rate / 2) { for i in 0..<200 { clicks[beat + i] = (i % 2 == 0 ? 0.8 : -0.8) } }
        let rhythm = Array(AudioFeatures.extract(clicks, sampleRate: rate)[(2 * AudioFeatures.melBands)..<(2 * AudioFeatures.melBands + AudioFeatures.tempi.count)])
        let best = AudioFeatures.tempi[rhythm.indices.max { rhythm[$0] < rhythm[$1] }!]
        XCTAssertTrue([60.0, 120.0].contains { abs($0 - best) / $0 < 0.07 }, "strongest tempo \(best)")
    }

    /// The tempo estimate finds a click track's tempo at another rate than the features', and tells it
    /// from a tempo a third slower; noise has none to match.
    func testTempoOfAClickTrack() {
        let rate = 44100
        func clicks(bpm: Double) -> [Float] {
            var x = [Float](repeating: 0, count: 10 * rate)
            let period = 60 / bpm * Double(rate)
            for beat in stride(from: 0.0, to: Double(x.count - 300), by: period) { for i in 0..<300 { x[Int(beat) + i] = i % 2 == 0 ? 0.8 : -0.8 } }
            return x
        }
        for bpm in [90.0, 132.0] {
            let measured = AudioFeatures.tempo(clicks(bpm: bpm), sampleRate: rate)
            XCTAssertTrue(AudioFeatures.tempo(measured, matches: bpm), "\(bpm) bpm measured as \(measured)")
            XCTAssertFalse(AudioFeatures.tempo(measured, matches: bpm * 0.75), "\(bpm) bpm measured as \(measured)")
        }
        // A click track has a strong beat; noise has none.
        XCTAssertGreaterThan(AudioFeatures.beat(clicks(bpm: 90), sampleRate: rate).strength, 0.6)
        var rng = SeededGenerator(seed: 3)
        let noise = (0..<(10 * rate)).map { _ in Float(rng.nextNormal()) * 0.3 }
        XCTAssertLessThan(AudioFeatures.beat(noise, sampleRate: rate).strength, 0.2)
        XCTAssertTrue(AudioFeatures.tempo(61, matches: 120) && AudioFeatures.tempo(240, matches: 120))
        XCTAssertFalse(AudioFeatures.tempo(100, matches: 120))
    }

    /// Where the beats fall: a click track starting 0.3 s or 0.55 s in is placed to within a frame or two.
    func testFirstBeatOfAClickTrack() {
        let rate = 44100, bpm = 100.0
        for start in [0.3, 0.55] {
            var x = [Float](repeating: 0, count: 6 * rate)
            for beat in stride(from: start * Double(rate), to: Double(x.count - 300), by: 60 / bpm * Double(rate)) {
                for i in 0..<300 { x[Int(beat) + i] = i % 2 == 0 ? 0.8 : -0.8 }
            }
            XCTAssertEqual(AudioFeatures.firstBeat(x, sampleRate: rate, bpm: bpm), start, accuracy: 0.035, "clicks from \(start) s")
        }
    }

    /// A beat that stops: a click track that turns to noise halfway is steady and at its tempo in the
    /// first stretch only; stretches are cut where the audio ends, and one too short to hold a beat is dropped.
    func testBeatTimelineHearsWhereTheBeatStops() throws {
        let rate = 44100, bpm = 100.0
        var rng = SeededGenerator(seed: 4)
        var x = (0..<(11 * rate)).map { $0 < 6 * rate ? 0 : Float(rng.nextNormal()) * 0.3 }
        let period = 60 / bpm * Double(rate)
        for beat in stride(from: 0.0, to: 6.0 * Double(rate) - 300, by: period) { for i in 0..<300 { x[Int(beat) + i] = i % 2 == 0 ? 0.8 : -0.8 } }
        let file = temporaryFolder(self) + "/clicks-then-noise.wav"
        try AudioFile.writeWAV(file, samples: x, sampleRate: rate)
        let stretches = try BeatTimeline.stretches(of: file, boundaries: [0, 6, 12, 20], bpm: bpm)
        XCTAssertEqual(stretches.map(\.start), [0, 6])
        XCTAssertEqual(stretches[1].end, 11, accuracy: 1e-6)
        XCTAssertTrue(stretches[0].atTempo, "\(stretches[0])")
        XCTAssertGreaterThan(stretches[0].strength, 0.6)
        XCTAssertLessThan(stretches[1].strength, 0.3)
        XCTAssertFalse(try BeatTimeline.stretches(of: file, boundaries: [0, 6], bpm: bpm * 0.75)[0].atTempo)
        XCTAssertEqual(try BeatTimeline.stretches(of: file, boundaries: [10, 12], bpm: bpm), [], "1 s is too short")
    }

    func testClassifierSeparatesClustersItHasNotSeen() {
        var rng = SeededGenerator(seed: 9)
        let centres = (0..<4).map { _ in (0..<6).map { _ in 3 * rng.nextNormal() } }
        func draw(_ c: Int) -> [Float] { centres[c].map { $0 + rng.nextNormal() } }
        var x: [[Float]] = [], y: [Int] = []
        for i in 0..<200 { x.append(draw(i % 4)); y.append(i % 4) }
        let model = GenreClassifier.train(features: x, labels: y, genres: ["a", "b", "c", "d"])
        var matrix = ConfusionMatrix(labels: model.genres)
        for i in 0..<100 { matrix.add(truth: i % 4, predicted: model.classify(segments: [draw(i % 4)])) }
        XCTAssertEqual(matrix.total, 100)
        XCTAssertGreaterThan(matrix.accuracy, 0.9)
        XCTAssertTrue(matrix.table().contains("a |"))
    }

    func testConfusionMatrixCounts() {
        var m = ConfusionMatrix(labels: ["rock", "jazz"])
        m.add(truth: 0, predicted: 0); m.add(truth: 0, predicted: 1); m.add(truth: 1, predicted: 1)
        XCTAssertEqual(m.counts, [[1, 1], [0, 1]])
        XCTAssertEqual(m.accuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ConfusionMatrix(labels: ["x"]).accuracy, 0)
    }
}

/// The digest that names the judge's cache of codec renditions.
final class ContentDigestTests: XCTestCase {
    func digest(_ parts: [String]) -> String {
        var d = ContentDigest()
        for p in parts { d.add(Data(p.utf8)) }
        return d.hex
    }

    func testDigestsFollowTheBytesAndHowTheyAreSplit() {
        XCTAssertEqual(digest(["config", "weights"]), digest(["config", "weights"]))
        XCTAssertNotEqual(digest(["config", "weights"]), digest(["config", "weightz"]))
        XCTAssertNotEqual(digest(["ab", "c"]), digest(["a", "bc"]))
        XCTAssertEqual(digest([]).count, 16)
    }

    /// The judge's accuracy with its 95 % interval (Wilson's): 32 of 40 is 65–90 %, not "80 %".
    func testTheIntervalOfACount() {
        let w = GenreReport.wilson(correct: 32, of: 40)
        XCTAssertEqual(w.lower, 0.6524, accuracy: 0.0005)
        XCTAssertEqual(w.upper, 0.8950, accuracy: 0.0005)
        let all = GenreReport.wilson(correct: 10, of: 10)
        XCTAssertEqual(all.upper, 1, accuracy: 1e-9)
        XCTAssertEqual(all.lower, 0.7225, accuracy: 0.0005)
        XCTAssertEqual(GenreReport.wilson(correct: 0, of: 0).upper, 1)
    }

    /// Fresh lyrics: two lines from the genre's words, from their own seed, and none for a genre the corpus lacks.
    func testFreshLyricsAreTheGenresWordsFromTheirOwnSeed() throws {
        let a = try XCTUnwrap(FreshLyrics.write(genre: "blues", seed: 101)), b = try XCTUnwrap(FreshLyrics.write(genre: "blues", seed: 102))
        XCTAssertEqual(a.split(separator: "\n").count, 2)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, FreshLyrics.write(genre: "blues", seed: 101))
        XCTAssertNil(FreshLyrics.write(genre: "polka", seed: 1))
    }
}
