import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Every named preset (what `jukebox convert --preset` writes) describes a model the engine builds:
/// the published architectures' parameter tables come out with their known sizes.
final class PresetModelTests: XCTestCase {
    func config(_ name: String) throws -> ModelConfig {
        let entries = try HyperparameterPresets.hps(name)
        let kind = try XCTUnwrap(HyperparameterPresets.kind(of: name))
        return try ModelConfig.parse(Data(try HyperparameterJSON.config(kind: kind, hps: entries)), source: "preset \(name)")
    }

    func testPriorPresetsBuildTheirParameterTables() throws {
        var counts: [String: Int] = [:]
        for name in ["prior_5b", "prior_5b_lyrics", "prior_1b_lyrics", "upsampler_level_1", "upsampler_level_0"] {
            let c = try config(name)
            XCTAssertEqual(c.kind, .prior, name)
            var count = try Prior.parameterCount(hps: c.hps)
            if try c.hps.int("level") < 2 {
                count += try UpsamplerConditioner.parameterShapes(c.hps).reduce(0) { $0 + $1.shape.reduce(1, *) }
            }
            counts[name] = count
        }
        // The published priors: about 5 billion and 1 billion parameters at the top, ~1 billion per upsampler.
        XCTAssertEqual(Double(counts["prior_5b"]!), 5e9, accuracy: 1e9)
        XCTAssertEqual(Double(counts["prior_5b_lyrics"]!), 5e9, accuracy: 1e9)
        XCTAssertEqual(Double(counts["prior_1b_lyrics"]!), 1e9, accuracy: 0.3e9)
        XCTAssertEqual(Double(counts["upsampler_level_1"]!), 1e9, accuracy: 0.5e9)
        print("preset parameter counts: \(counts)")
    }

    func testVQVAEPresetBuildsItsParameterTable() throws {
        let c = try config("vqvae")
        XCTAssertEqual(c.kind, .vqvae)
        let shapes = try VQVAE.parameterShapes(c.hps)
        XCTAssertTrue(shapes.contains { $0.key == "bottleneck.level_blocks.2.k" && $0.shape == [2048, 64] })
    }
}
