import JukeboxCore
@testable import StudioKit

/// A small v2-style vocabulary (underscored keys) so pickers have something to search.
func testVocabulary() throws -> LabelVocabulary {
    let artists = try LabelNameList(text: """
        unknown;0
        the_beatles;1
        beach_boys;2
        beyonce;3
        bob_dylan;4
        david_bowie;5
        the_doors;6
        """, source: "artist_ids.txt")
    let genres = try LabelNameList(text: """
        unknown;0
        pop;1
        rock;2
        jazz;3
        blues;4
        soul;5
        country;6
        classical;7
        pop_rock;8
        """, source: "genre_ids.txt")
    return LabelVocabulary(artists: artists, genres: genres, v3: false)
}

func studio(_ width: Int = 80, _ height: Int = 24) throws -> StudioState {
    StudioState(width: width, height: height, levels: 3, bins: [2048, 2048, 2048], vocabulary: try testVocabulary())
}

/// Sends keys one by one, collecting every effect.
@discardableResult
func send(_ state: inout StudioState, _ messages: [StudioMessage]) -> [StudioEffect] {
    messages.flatMap { update(&state, $0) }
}

func type(_ text: String) -> [StudioMessage] { text.map { .key($0 == "\n" ? .enter : .char($0)) } }

/// Events of the first two top-level windows of a sampling run: window 1 done, window 2 half way.
func samplingEvents() -> [StudioMessage] {
    var events: [GenerationEvent] = []
    let total = 760, window = 304, hop = 152
    events.append(.windowStarted(level: 2, index: 0, start: 0, length: window))
    for chunk in stride(from: 0, to: window, by: 38) {
        let positions = chunk..<(chunk + 38)
        events.append(.tokensSampled(level: 2, samples: 0..<2, positions: positions,
                                     values: (0..<76).map { ($0 * 97 + chunk * 13) % 2048 }))
    }
    events.append(.progress(level: 2, done: window, total: total, tokensPerSecond: 41.5, eta: 22))
    events.append(.windowFinished(level: 2, index: 0, start: 0, length: window))
    events.append(.windowStarted(level: 2, index: 1, start: hop, length: window))
    events.append(.tokensSampled(level: 2, samples: 0..<2, positions: window..<(window + 76),
                                 values: (0..<152).map { ($0 * 31) % 2048 }))
    events.append(.progress(level: 2, done: window + 76, total: total, tokensPerSecond: 40.2, eta: 19.4))
    return events.map { .engine($0) } + [.lyricSpan("Lanterns hum along the harbour\nWe sing until the tide comes in")]
}

/// The engine's side of co-composition for update tests: the messages the runtime posts after each step,
/// with the log CoComposer keeps (candidate ids count up across rounds; undo shortens the line, not the log).
struct EngineScript {
    var kept: [Int] = []
    var log: [WindowRecord] = []
    var undoStack: [[Int]] = []
    var nextID = 0
    var current: [[Int]] = []

    var composition: Composition { Composition(kept: kept, log: log, level: 2, canUndo: !undoStack.isEmpty) }

    mutating func draw(_ stretches: [[Int]]) -> [StudioMessage] {
        let ids = Array(nextID..<(nextID + stretches.count))
        nextID += stretches.count
        log.append(WindowRecord(level: 2, window: undoStack.count, start: kept.count, length: stretches[0].count,
                                candidates: ids, kept: nil))
        current = stretches
        return [.composition(composition), .saved, .candidatesReady(stretches)]
    }

    mutating func keep(_ index: Int) -> [StudioMessage] {
        undoStack.append(kept)
        kept += current[index]
        log[log.count - 1].kept = log[log.count - 1].candidates[index]
        current = []
        return [.composition(composition), .saved]
    }

    mutating func undo() -> [StudioMessage] {
        kept = undoStack.removeLast()
        current = []
        return [.composition(composition), .saved]
    }
}
