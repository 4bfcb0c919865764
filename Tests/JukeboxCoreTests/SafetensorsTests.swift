import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class SafetensorsTests: XCTestCase {
    func testRoundTripKeepsValuesShapesAndMetadata() throws {
        let dir = temporaryFolder(self)
        var w = SafetensorsWriter()
        w.add("a", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        w.add("codes", shape: [1, 4], int64s: [0, 7, -1, 1 << 40])
        w.add("h", dtype: .f16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0])  // 1.0, -2.0
        w.metadata = ["note": "x"]
        try w.write(to: dir + "/t.safetensors")
        let f = try SafetensorsFile(path: dir + "/t.safetensors")
        XCTAssertEqual(try f.tensor("a").toArray(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try f.tensor("a").shape, [2, 3])
        XCTAssertEqual(try f.int64s("codes"), [0, 7, -1, 1 << 40])
        XCTAssertEqual(try f.tensor("h").toArray(), [1, -2])
        XCTAssertEqual(f.metadata["note"], "x")
        XCTAssertEqual(f.names, ["a", "codes", "h"])
    }

    func testTruncatedFileIsAOneLineErrorNamingTheFile() throws {
        let dir = temporaryFolder(self)
        var w = SafetensorsWriter()
        w.add("a", shape: [64], floats: [Float](repeating: 1, count: 64))
        let bytes = w.serialized()
        let path = dir + "/cut.safetensors"
        try Data(bytes.prefix(bytes.count - 10)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafetensorsFile(path: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path), text)
            XCTAssertTrue(text.contains("truncated"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    /// Two tensors over the same bytes are refused, naming both; an empty tensor shares no bytes with anything.
    func testOverlappingTensorsAreRefused() throws {
        func file(_ entries: [(String, [Int], Int, Int)]) -> [UInt8] {
            let header = "{" + entries.map { "\"\($0.0)\": {\"dtype\": \"F32\", \"shape\": \($0.1), \"data_offsets\": [\($0.2), \($0.3)]}" }
                .joined(separator: ", ") + "}"
            let h = Array(header.utf8)
            return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: 64)
        }
        XCTAssertThrowsError(try SafetensorsFile(bytes: file([("a", [4], 0, 16), ("b", [4], 8, 24)]), name: "x.safetensors")) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("x.safetensors") && text.contains("a and b overlap"), text)
        }
        XCTAssertNoThrow(try SafetensorsFile(bytes: file([("a", [4], 0, 16), ("empty", [0], 0, 0), ("b", [4], 16, 32)])))
    }

    func testGarbageAndEmptyFilesAreRejected() throws {
        let dir = temporaryFolder(self)
        for (name, bytes) in [("empty", [UInt8]()), ("short", [1, 2, 3]),
                              ("huge-header", [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x7B]),
                              ("not-json", [4, 0, 0, 0, 0, 0, 0, 0] + Array("abcd".utf8))] as [(String, [UInt8])] {
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafetensorsFile(path: path), name) { error in
                XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
            }
        }
    }

    func testF16ConversionMatchesIEEE() {
        XCTAssertEqual(HalfPrecision.f16ToF32(0x3C00), 1)
        XCTAssertEqual(HalfPrecision.f16ToF32(0x0001), Float(5.9604645e-08))
        XCTAssertEqual(HalfPrecision.f16ToF32(0x7BFF), 65504)
        XCTAssertTrue(HalfPrecision.f16ToF32(0x7C00).isInfinite)
        for v: Float in [0.1, -3.25, 1e-6, 65504, 0.33333] {
            let back = HalfPrecision.f16ToF32(HalfPrecision.f32ToF16(v))
            XCTAssertEqual(back, v, accuracy: abs(v) * 1e-3 + 1e-7)
        }
        XCTAssertEqual(HalfPrecision.bf16ToF32(0x3F80), 1)
    }

    func testFixtureWeightsAreMappedNotCopied() throws {
        let folder = try Fixtures.folder("vqvae")
        let f = try SafetensorsFile(path: folder + "/weights.safetensors")
        let hps = try ModelConfig.load(folder: folder).hps
        let name = "bottleneck.level_blocks.0.k"
        let a = try f.tensor(name), b = try f.tensor(name)
        XCTAssertEqual(a.shape, [try hps.int("l_bins"), try hps.int("emb_width")])
        XCTAssertEqual(a.data, b.data, "two reads of a mapped F32 tensor share memory")
    }
}
