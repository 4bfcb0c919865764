import XCTest
@testable import JukeboxCore

/// The VQ-VAE against the reference's golden tensors.
final class VQVAEFixtureTests: XCTestCase {
    func testEncoderOutputsCodesAndDecodesMatchTheReference() throws {
        let folder = try Fixtures.folder("vqvae")
        let model = try VQVAE(folder: folder)
        let io = try Fixtures.io("vqvae")
        let x = try io.tensor("x")
        XCTAssertEqual(model.levels, 3)
        let codes = try model.encode(x)
        for level in 0..<model.levels {
            let encoded = try model.encoderOutput(x, level: level)
            assertClose(encoded, try io.tensor("encoded\(level)"), "encoded\(level)")

            let reference = try io.int64s("z\(level)")
            let ties = try io.int64s("tie\(level)")
            XCTAssertEqual(codes[level].values.count, reference.count)
            var compared = 0
            for i in 0..<min(reference.count, codes[level].values.count) where ties[i] == 0 {
                compared += 1
                if codes[level].values[i] != reference[i] {
                    XCTFail("z\(level)[\(i)]: ours \(codes[level].values[i]), reference \(reference[i])")
                    break
                }
            }
            print("z\(level): \(compared) of \(reference.count) codes compared (the rest are ties)")
            XCTAssertGreaterThan(compared, reference.count / 2)

            // Decode the reference's codes, so a tie resolved differently cannot change the audio.
            let zShape = try io.entry("z\(level)").shape
            let decoded = try model.decode(LevelCodes(n: zShape[0], t: zShape[1], values: reference), level: level)
            XCTAssertEqual(decoded.shape, x.shape)
            assertClose(decoded, try io.tensor("decoded\(level)"), "decoded\(level)")
        }
    }

    func testParameterTableMatchesTheReferenceStateDict() throws {
        let folder = try Fixtures.folder("vqvae")
        let config = try ModelConfig.load(folder: folder)
        let file = try SafetensorsFile(path: folder + "/weights.safetensors")
        let table = try VQVAE.parameterShapes(config.hps)
        XCTAssertEqual(table.map(\.key), file.names, "keys and their order")
        for (key, shape) in table { XCTAssertEqual(file.entries[key]?.shape, shape, key) }
    }
}
