import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining
import XCTest

final class PublishedModelTests: XCTestCase {
    /// The weights counted from the presets agree with the reference's published memory figures
    /// (JUKEBOX.md: top priors of about 3.8 GB for 1b_lyrics in float32, 10.3 GB for 5b and 11.5 GB for 5b_lyrics in 16 bits).
    func testCountedWeightsMatchThePublishedSizes() throws {
        func top(_ name: String) throws -> PublishedModel.MemberWeights {
            try XCTUnwrap(try XCTUnwrap(PublishedModel.named(name)).weights().first { $0.folder == "prior_level_2" })
        }
        XCTAssertEqual(Double(try top("1b_lyrics").bytes(.f32)) / 1e9, 3.8, accuracy: 0.2)
        XCTAssertEqual(Double(try top("5b").bytes(.f16)) / 1e9, 10.3, accuracy: 0.4)
        XCTAssertEqual(Double(try top("5b_lyrics").bytes(.f16)) / 1e9, 11.5, accuracy: 0.4)
        // q4 is the smallest, and every set has the same four members.
        for model in PublishedModel.all {
            let w = try model.weights()
            XCTAssertEqual(Set(w.map(\.folder)), Set(ModelSet.memberNames))
            let total = { (f: WeightFormat) in w.reduce(0) { $0 + $1.bytes(f) } }
            XCTAssertLessThan(total(.q4), total(.q8))
            XCTAssertLessThan(total(.q8), total(.f16))
        }
    }
}
