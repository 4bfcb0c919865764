import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining
import XCTest

final class SHA256Tests: XCTestCase {
    /// FIPS 180-4's examples, lengths around the padding boundary, and chunked updates agree with one pass,
    /// on the CPU's SHA instructions (where it has them) and on the portable rounds.
    func testKnownDigestsAndChunking() throws {
        let accelerated = SHA256.usesExtensions
        defer { SHA256.usesExtensions = accelerated }
        for extensions in [true, false] {
            SHA256.usesExtensions = extensions
            try checkDigests()
        }
        SHA256.usesExtensions = true
        var generator = SeededGenerator(seed: 11)
        let bytes = Data((0..<100_003).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let fast = SHA256.hex(of: bytes)
        SHA256.usesExtensions = false
        XCTAssertEqual(SHA256.hex(of: bytes), fast)
    }

    func checkDigests() throws {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")

        var generator = SeededGenerator(seed: 3)
        let bytes = Data((0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        for length in [55, 56, 63, 64, 65, 119, 120, 10_000] {
            let whole = SHA256.hex(of: bytes.prefix(length))
            var h = SHA256()
            var offset = 0, step = 1
            while offset < length {
                let end = min(length, offset + step)
                bytes[offset..<end].withUnsafeBytes { h.update($0) }
                offset = end
                step = step * 3 % 97 + 1
            }
            XCTAssertEqual(h.finalize(), whole, "length \(length)")
        }
        let path = temporaryFolder(self) + "/bytes.bin"
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hex(ofFile: path), SHA256.hex(of: bytes))
        XCTAssertThrowsError(try SHA256.hex(ofFile: path + ".absent")) { XCTAssertTrue("\($0)".contains(path + ".absent")) }
    }
}
