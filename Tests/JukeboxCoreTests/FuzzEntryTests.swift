import Foundation
import JukeboxTestSupport
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// A few thousand mutations of the fuzz seeds through the same entry points the libFuzzer targets use:
/// a quick, deterministic guard that malformed input only ever throws (the long runs are Tests/Fuzz/run.sh).
final class FuzzEntryTests: XCTestCase {
    static let seeds = Fixtures.packageRoot.appendingPathComponent("Tests/Fuzz/seeds")

    func seedFiles(_ target: String) throws -> [[UInt8]] {
        let dir = Self.seeds.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty)
        return try names.map { [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func mutate(_ seeds: [[UInt8]], rounds: Int, _ body: ([UInt8]) -> Void) {
        Mutations().run(seeds, rounds: rounds, body)
    }

    func testSafetensorsMutationsNeverCrash() throws {
        mutate(try seedFiles("safetensors"), rounds: 3000) { FuzzEntry.safetensors($0) }
    }

    func testSessionDocumentMutationsNeverCrash() throws {
        mutate(try seedFiles("session"), rounds: 3000) { FuzzEntry.session($0) }
    }

    func testLabelListMutationsNeverCrash() throws {
        mutate(try seedFiles("labels"), rounds: 3000) { FuzzEntry.labels($0) }
    }

    func testAudioMutationsNeverCrash() throws {
        mutate(try seedFiles("wav"), rounds: 500) { FuzzEntry.audio($0) }
    }

    func testCheckpointMutationsNeverCrash() throws {
        mutate(try seedFiles("pickle"), rounds: 3000) { bytes in
            bytes.withUnsafeBytes { fuzzTorchCheckpoint($0) }
        }
    }
}
