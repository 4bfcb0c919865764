import Foundation
@testable import JukeboxCore
@testable import JukeboxTraining
import XCTest

/// Lyrics alignment: reading a head's attention as a path through the lyrics, words and lines from it, and teaching
/// a head to follow the sung words.
final class AlignmentTests: XCTestCase {
    /// A map whose attention moves through the characters (with noise and a stretch that shows nothing) reads as the
    /// path that follows it, never going back.
    func testThePathFollowsTheAttentionForward() {
        let codes = 60, chars = 20
        var rng = SeededGenerator(seed: 3)
        var characters: [[Int]] = [], weights: [[Float]] = []
        for t in 0..<codes {
            if (30..<34).contains(t) { characters.append([]); weights.append([]); continue }
            let shown = Array(max(0, t / 3 - 5)..<min(chars, t / 3 + 5))
            let truth = t / 3
            characters.append(shown)
            // The truth gets most of the weight; every fifth code a distractor further back gets more.
            weights.append(shown.map { c in
                let noise = rng.nextUnitFloat() * 0.1
                if t % 5 == 0 && c == max(0, truth - 4) { return 0.6 + noise }
                return (c == truth ? 0.5 : 0.02) + noise
            })
        }
        let map = AttentionMap(characters: characters, weights: [weights], heads: 1)
        let path = map.path(head: 0)
        XCTAssertEqual(path.count, codes)
        XCTAssertEqual(path, path.sorted(), "never goes back")
        let right = (0..<codes).filter { !(30..<34).contains($0) && path[$0] == $0 / 3 }.count
        XCTAssertGreaterThan(right, 50, "\(path)")
        XCTAssertEqual(path[31], path[29], "codes that show nothing keep the character before them")
    }

    /// A head that stalls (all its weight on the first character shown, an attention sink) reads as a path stuck at
    /// the start; held near the even spread, the path moves through the lyrics where the even spread would, and
    /// where the attention does say something (a character it clearly picks) it still follows it.
    func testAPathHeldNearTheEvenSpreadMovesPastAStalledHead() {
        let codes = 80, chars = 20
        var characters: [[Int]] = [], weights: [[Float]] = []
        for t in 0..<codes {
            let shown = Array(0..<chars)
            characters.append(shown)
            // Stalled on character 0, except around code 40, where the head clearly picks character 12.
            weights.append(shown.map { c in (35..<45).contains(t) ? (c == 12 ? 0.9 : 0.005) : (c == 0 ? 0.9 : 0.005) })
        }
        let map = AttentionMap(characters: characters, weights: [weights], heads: 1)
        XCTAssertEqual(map.path(head: 0).last, 0, "alone, the path stays where the head stalls")
        let expected = (0..<codes).map { Double($0) / Double(codes) * Double(chars) - 0.5 }
        let held = map.path(head: 0, expected: expected, spread: 2)
        XCTAssertEqual(held, held.sorted())
        XCTAssertGreaterThanOrEqual(held.last ?? 0, chars - 2, "it reaches the end of the lyrics: \(held)")
        XCTAssertEqual(held[40], 12, "where the head picks a character, the path takes it: \(held)")
        XCTAssertEqual(held[10], 2, accuracy: 1, "elsewhere the even spread leads: \(held)")
    }

    /// Words and lines come from the lyrics as written: a word made only of characters the model cannot see takes
    /// the time of what follows it, words the clip ends before are left out, and every word knows its place.
    func testWordsAndLinesFollowTheWrittenLyrics() throws {
        let text = TextProcessor(v3: true)
        let lyrics = "Hello ☃ night\\oh\nnever sung"
        let cleaned = text.inspect(lyrics).text
        XCTAssertEqual(cleaned, "Hello  night\noh\nnever sung")
        let count = cleaned.unicodeScalars.count
        // Characters reached at 0.1 s each, the last line never.
        let lastSung = Array(cleaned.unicodeScalars).lastIndex(of: "\n")!
        let onsets: [Double?] = (0..<count).map { $0 < lastSung ? Double($0) * 0.1 : nil }
        let a = LyricAlignment(method: "test", lyrics: lyrics, text: text, onsets: onsets,
                               weights: [Float](repeating: 0.5, count: count), seconds: 3)
        XCTAssertEqual(a.characters.count, count)
        XCTAssertEqual(a.lines.map(\.text), ["Hello ☃ night", "oh"])
        XCTAssertEqual(a.words.map(\.text), ["Hello", "☃", "night", "oh"])
        XCTAssertEqual(a.words.map(\.index), [0, 1, 2, 3])
        XCTAssertEqual(a.words[0].start, 0, accuracy: 1e-9)
        XCTAssertEqual(a.words[0].end, 0.5, accuracy: 1e-9, "ends when the space after it is reached")
        XCTAssertEqual(a.words[1].start, a.words[2].start, accuracy: 1e-9, "an invisible word takes the next one's time")
        XCTAssertEqual(a.lines[1].start, 1.3, accuracy: 1e-9)
        XCTAssertTrue(a.words.allSatisfy { $0.end >= $0.start && $0.end <= 3 })
        XCTAssertEqual(try JSONDecoder().decode(LyricAlignment.self, from: JSONEncoder().encode(a)), a)

        let none = LyricAlignment(method: "test", lyrics: "", text: text, onsets: [], weights: [], seconds: 3)
        XCTAssertEqual(none.lines, [])
        let even = LyricAlignment.evenSpread(lyrics: "a b c d", text: text, songSeconds: 8, offsetSeconds: 4, seconds: 4)
        XCTAssertEqual(even.words.map(\.text), ["c", "d"], "the clip starts halfway through the song")
        XCTAssertEqual(even.words[0].start, 4.5 / 7 * 8 - 4, accuracy: 1e-9, "the middle of character 4 of 7")
    }

    /// Training and reading agree on which key carries which character: the key a sung character is taught on
    /// is the key the alignment reads it from, for windows cut from long lyrics and for short lyrics padded in front.
    func testTrainingTargetsAndTheReadingAgreeOnKeys() {
        for indices in [Array(40..<48), Array(repeating: -1, count: 3) + Array(0..<5)] {
            let shownChars = indices.filter { $0 >= 0 }
            let sung = [-1] + shownChars + [shownChars.last! + 1, 999]
            let targets = PriorTrainingData.alignTargets(sung: sung[...], indices: indices)
            let columns = AttentionMap.characterOfColumn(indices)
            for (ch, column) in zip(sung, targets) {
                if column >= 0 { XCTAssertEqual(columns[column], ch) } else {
                    XCTAssertTrue(ch < 0 || !columns.contains(ch), "character \(ch) is shown but not taught")
                }
            }
            XCTAssertEqual(targets.filter { $0 >= 0 }.count, shownChars.count - 1, "all but the window's last character")
        }
    }

    /// Word times become the character sung at each code: a word's characters share its span in order.
    func testSungCharactersSpreadEachWordOverItsTime() throws {
        let text = TextProcessor(v3: true)
        let tokens = text.tokens(forLyrics: "ab cd\nef")
        // 1 code = 0.1 s (hop 10 at 100 Hz); "ab" at 0.2–0.6 s, "cd" 1.0–1.2 s, "ef" 1.5–1.9 s.
        let sung = try XCTUnwrap(PriorTrainingData.sungCharacters(lyrics: tokens, wordTimes: [200, 600, 1000, 1200, 1500, 1900],
                                                                  codes: 22, hop: 10, rate: 100, text: text))
        XCTAssertEqual(sung, [-1, -1, 0, 0, 1, 1, -1, -1, -1, -1, 3, 4, -1, -1, -1, 6, 6, 7, 7, -1, -1, -1])
        XCTAssertNil(PriorTrainingData.sungCharacters(lyrics: tokens, wordTimes: [0, 100], codes: 5, hop: 10, rate: 100, text: text),
                     "times of other lyrics")
    }

    /// Guidance teaches the chosen head: its bits on the sung character fall well below where they start, for a
    /// prime layer of a single encoder-decoder and a decode layer over a lyrics encoder.
    func testGuidanceTeachesTheHeadToLookAtTheSungCharacter() throws {
        for (changes, layer) in [(["attn_order": 12, "prior_depth": 16, "n_tokens": 6, "n_vocab": 9, "use_tokens": true,
                                   "single_enc_dec": true, "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14, "blocks": 2,
                                   "prior_width": 8, "lr": 0.01, "lr_warmup": 2.0, "clip": 1.0] as [String: Any], 15),
                                 (["attn_order": 8, "prior_depth": 10, "n_tokens": 8, "n_vocab": 10, "use_tokens": true,
                                   "merged_decoder": true, "lr": 0.01, "lr_warmup": 2.0, "clip": 1.0], -1)] {
            let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(changes), seed: 11)
            let lyricLayer = layer >= 0 ? layer : model.prior.lyricLayers[0]
            let guidance = try AlignmentGuidance(layer: lyricLayer, head: 1, weight: 1)
            try guidance.check(model.prior)
            let trainer = try PriorTrainer.make(model)
            let b = PriorGradCheckTests.batch(model, 2, seed: 4)
            let c = model.config
            // Each code's target key moves through the lyric window as the codes go on.
            let targets = (0..<(2 * c.nCtx)).map { r in (r % c.nCtx) % 3 == 2 ? -1 : 1 + (r % c.nCtx) * (c.nTokens - 1) / c.nCtx }
            let first = try XCTUnwrap(trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2, guidance: guidance, alignTargets: targets).loss.alignment)
            var last = first
            for _ in 0..<40 {
                last = try XCTUnwrap(trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2, guidance: guidance, alignTargets: targets).loss.alignment)
            }
            XCTAssertLessThan(last, 0.5 * first, "layer \(lyricLayer): \(first) → \(last) bits")
        }
        XCTAssertThrowsError(try AlignmentGuidance(layer: 0, head: 0, weight: 0))
    }

    /// Training only the guided layer's attention leaves every other weight as it was.
    func testTrainingOnlyOneLayerChangesOnlyThatLayer() throws {
        let hps = PriorGradCheckTests.hps(["attn_order": 12, "prior_depth": 16, "n_tokens": 6, "n_vocab": 9, "use_tokens": true,
                                           "single_enc_dec": true, "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14,
                                           "blocks": 2, "prior_width": 8, "lr": 0.01, "lr_warmup": 2.0])
        let model = try TrainablePrior.random(hps: hps, seed: 3)
        var trainer = try PriorTrainer.make(model)
        let prefix = "prior.transformer._attn_mods.15.attn.c_attn"
        trainer.trainable = [prefix]
        let before = model.parameters.map { ($0.key, $0.tensor.toArray()) }
        let b = PriorGradCheckTests.batch(model, 2, seed: 4)
        let targets = (0..<(2 * model.config.nCtx)).map { 1 + $0 % 4 }
        for _ in 0..<3 {
            try trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2, guidance: try AlignmentGuidance(layer: 15, head: 0, weight: 1),
                             alignTargets: targets)
        }
        for ((key, old), (_, now)) in zip(before, model.parameters.map { ($0.key, $0.tensor.toArray()) }) {
            if key.hasPrefix(prefix) { XCTAssertNotEqual(old, now, key) } else { XCTAssertEqual(old, now, key) }
        }
    }
}
