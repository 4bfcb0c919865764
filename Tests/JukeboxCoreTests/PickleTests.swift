import JukeboxTestSupport
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class PickleTests: XCTestCase {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    func load(_ bytes: [UInt8], torch: Bool = true) throws -> PickleValue {
        try bytes.withUnsafeBytes {
            try Unpickler.load($0, source: "test.pkl", policy: Unpickler.Policy(torch: torch, loadFromBytes: nil)).value
        }
    }

    /// Asserts a one-line error naming the source and containing `text`.
    func assertRefused(_ bytes: [UInt8], _ text: String, torch: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(bytes, torch: torch), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("test.pkl: "), message, file: file, line: line)
            XCTAssertTrue(message.contains(text), "expected \(text) in: \(message)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
        }
    }

    // {'a': [1, 2.5, None, True, False, (1, 2), (1, 2, 3), (), 'xyz'], 'big': 2**70, 'neg': -5, 'n': -2**40,
    //  'f': 1e-08, 'u': 'héllo', 't': (3,), 'od': OrderedDict([('k', 1)]), 7: 'seven'} from Python's pickle.
    static let protocol2 = hex("80027d71002858010000006171015d7102284b014740040000000000004e88894b014b028671034b014b024b0387710429580300000078797a710565580300000062696771068a0900000000000000004058030000006e656771074afbffffff58010000006e71088a060000000000ff5801000000667109473e45798ee2308c3a580100000075710a580600000068c3a96c6c6f710b580100000074710c4b0385710d58020000006f64710e63636f6c6c656374696f6e730a4f726465726564446963740a710f2952711058010000006b71114b01734b075805000000736576656e7112752e")
    // The same object with b'\x00\x01' under 'b', protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
    static let protocol4 = hex("800495ba000000000000007d94288c0161945d94284b014740040000000000004e88894b014b0286944b014b024b038794298c0378797a94658c03626967948a090000000000000000408c036e6567944afbffffff8c016e948a060000000000ff8c016694473e45798ee2308c3a8c0175948c0668c3a96c6c6f948c0174944b0385948c01629443020001948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01734b078c05736576656e94752e")

    func checkCommon(_ v: PickleValue) {
        XCTAssertEqual(v["a"], .list([.int(1), .float(2.5), .none, .bool(true), .bool(false), .tuple([.int(1), .int(2)]),
                                      .tuple([.int(1), .int(2), .int(3)]), .tuple([]), .string("xyz")]))
        XCTAssertEqual(v["big"], .bigInt([0, 0, 0, 0, 0, 0, 0, 0, 0x40]))
        XCTAssertEqual(v["neg"], .int(-5))
        XCTAssertEqual(v["n"], .int(-(1 << 40)))
        XCTAssertEqual(v["f"], .float(1e-08))
        XCTAssertEqual(v["u"], .string("héllo"))
        XCTAssertEqual(v["t"], .tuple([.int(3)]))
        XCTAssertEqual(v["od"], .dict([PickleDictEntry(key: .string("k"), value: .int(1))]))
        XCTAssertEqual(v.dictEntries?.last?.key, .int(7))
        XCTAssertEqual(v.dictEntries?.first?.key, .string("a"), "insertion order is kept")
    }

    func testPythonPicklesOfProtocols2And4Rebuild() throws {
        checkCommon(try load(Self.protocol2))
        let v4 = try load(Self.protocol4)
        checkCommon(v4)
        XCTAssertEqual(v4["b"], .bytes([0, 1]))
        var v5 = Self.protocol4
        v5[1] = 5
        checkCommon(try load(v5))
    }

    func testTorchTensorIsRebuiltAsAReference() throws {
        let bytes = TorchFileBuilder.pickle(.orderedDict([
            ("w", .tensor(.init(storage: "7", dtype: "HalfStorage", storageCount: 12, offset: 2, size: [2, 3], stride: [1, 2]))),
        ]))
        let v = try load(bytes)
        guard case .tensor(let t) = v["w"] else { return XCTFail("no tensor in \(v)") }
        XCTAssertEqual(t.storage.key, "7")
        XCTAssertEqual(t.dtype, .float16)
        XCTAssertEqual(t.offset, 2)
        XCTAssertEqual(t.size, [2, 3])
        XCTAssertEqual(t.stride, [1, 2])
        XCTAssertFalse(t.isContiguous)
        // The same pickle in a plain-data context: the tensor rebuild is a refused global.
        assertRefused(bytes, "torch._utils._rebuild_tensor_v2", torch: false)
    }

    func testReferenceHyperparamsObjectIsRebuiltAsADictWithoutRunningIt() throws {
        // What pickling jukebox.hparams.Hyperparams(levels=3) at protocol 2 would give: the class via
        // GLOBAL, NEWOBJ, its items, then an (empty) instance __dict__ through BUILD.
        var w = TorchFileBuilder.PickleWriter()
        w.global("copyreg", "__newobj__")
        var hps = TorchFileBuilder.PickleWriter()
        hps.global("jukebox.hparams", "Hyperparams")
        hps.bytes += [0x29, 0x81, 0x28]
        hps.str("levels"); hps.int(3)
        hps.str("downs_t"); hps.write(.tuple([.int(3), .int(2), .int(2)]))
        hps.bytes += [0x75, 0x7D, 0x62]
        let v = try load(hps.stop())
        XCTAssertEqual(v["levels"], .int(3))
        XCTAssertEqual(v["downs_t"], .tuple([.int(3), .int(2), .int(2)]))
        assertRefused(w.stop(), "copyreg.__newobj__")
        // Python 3.11's own pickle of the class defined in a script: no BUILD.
        let script = Self.hex("8002635f5f6d61696e5f5f0a4879706572706172616d730a71002981710158060000006c6576656c7371024b03732e")
        XCTAssertEqual(try load(script)["levels"], .int(3))
    }

    // MARK: - Hostile pickles: no global outside the allow-list is ever accepted.

    func testGlobalOsSystemWithReduceIsRefused() {
        // cos\nsystem\n + ('echo pwned',) + REDUCE
        let bytes: [UInt8] = [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8) + [0x58, 10, 0, 0, 0] + Array("echo pwned".utf8)
            + [0x85, 0x52, 0x2E]
        assertRefused(bytes, "refused global os.system")
    }

    func testStackGlobalBuiltinsEvalIsRefused() {
        let bytes: [UInt8] = [0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93]
            + [0x8C, 3] + Array("1+1".utf8) + [0x85, 0x52, 0x2E]
        assertRefused(bytes, "refused global builtins.eval")
    }

    func testSubprocessPopenInsideAStateDictIsRefused() {
        // A plausible checkpoint whose second entry smuggles subprocess.Popen(['sh']).
        var w = TorchFileBuilder.PickleWriter()
        w.bytes += [0x7D, 0x28]
        w.str("step"); w.int(3)
        w.str("model"); w.global("subprocess", "Popen")
        w.bytes += [0x5D, 0x28]; w.str("sh"); w.bytes += [0x65, 0x85, 0x52]
        w.bytes.append(0x75)
        assertRefused(w.stop(), "refused global subprocess.Popen")
    }

    func testOtherCodePathsAreRefused() {
        // INST names a class and calls it.
        assertRefused([0x80, 0x02, 0x28] + Array("ios\nsystem\n".utf8) + [0x2E], "os.system")
        // Python's own pickle of bytes at protocol 2 goes through _codecs.encode: not on the list.
        assertRefused(Self.hex("8002635f636f646563730a656e636f64650a710058020000000001710158060000006c6174696e3171028671035271042e"),
                      "_codecs.encode")
        // A storage class called as a function, and a whole-module persistent id.
        var w = TorchFileBuilder.PickleWriter()
        w.global("torch", "FloatStorage"); w.bytes += [0x29, 0x52]
        assertRefused(w.stop(), "persistent id")
        var m = TorchFileBuilder.PickleWriter()
        m.bytes.append(0x28); m.str("module"); m.bytes += [0x74, 0x51]
        assertRefused(m.stop(), "whole module")
        // Protocol 0 text opcodes and out-of-band buffers are not read.
        assertRefused([0x80, 0x02, 0x49] + Array("1\n".utf8) + [0x2E], "not supported")
        assertRefused([0x80, 0x05, 0x97, 0x2E], "not supported")
    }

    // MARK: - Malformed pickles give one-line errors.

    func testMalformedPicklesGiveErrors() {
        assertRefused([], "truncated")
        assertRefused([0x80, 0x02], "truncated")
        assertRefused([0x80, 0x02, 0x2E], "stack underflow")
        assertRefused([0x80, 0x02, 0x68, 0x05, 0x2E], "memo index 5")
        assertRefused([0x80, 0x02, 0x74, 0x2E], "no MARK")
        assertRefused([0x80, 0x02, 0x28, 0x2E], "stack underflow")
        assertRefused([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], "runs past the end")
        assertRefused([0x80, 0x02, 0x8D] + [UInt8](repeating: 0xFF, count: 8), "runs past the end")
        assertRefused([0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF], "LONG4")
        assertRefused([0x80, 0x02, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E], "UTF-8")
        assertRefused([0x80, 0x09, 0x2E], "protocol 9")
        assertRefused([0x80, 0x02, 0x4E, 0x4E, 0x61, 0x2E], "not a list")
        assertRefused([0x80, 0x02, 0x7D, 0x5D, 0x85, 0x4E, 0x73, 0x2E], "unhashable")
        assertRefused([0x80, 0x02, 0x7D, 0x28, 0x4E, 0x75, 0x2E], "odd number")
        assertRefused([0x80, 0x02, 0x4E, 0x4E, 0x52, 0x2E], "not a global")
        assertRefused([0x80, 0x02, 0x63] + Array("os".utf8), "unterminated")
    }

    func testCyclesDeepNestingAndSharingAreBounded() {
        // l = []; l.append(l)
        assertRefused([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E], "nested deeper")
        // 200 000 nested one-element tuples, 1 byte each: no recursion may follow them.
        assertRefused([0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 200_000) + [0x2E], "nested deeper")
        // 200 000 nested lists built with MARK ... LIST.
        assertRefused([0x80, 0x02] + [UInt8](repeating: 0x28, count: 200_000) + [0x4E] + [UInt8](repeating: 0x6C, count: 200_000) + [0x2E],
                      "nested deeper")
        // l0 = []; l(k+1) = [lk, lk] for 40 levels: 2^40 paths through 40 lists.
        var b: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00]
        for _ in 0..<40 { b += [0x28, 0x68, 0x00, 0x68, 0x00, 0x6C, 0x71, 0x00] }
        b.append(0x2E)
        assertRefused(b, "values")
    }

    func testFuzzEntryNeverCrashesOnMutatedPickles() {
        var rng = SplitMix(seed: 1)
        let seeds = [Self.protocol2, Self.protocol4, TorchFileBuilder.pickle(.orderedDict([
            ("w", .tensor(.init(storage: "0", storageCount: 6, size: [2, 3], stride: [3, 1]))),
            ("v", .tensor(.init(storage: "0", storageCount: 6, offset: 1, size: [2], stride: [2], view: ("0", 0, 6)))),
        ]))]
        var parsed = 0
        for i in 0..<Mutator.iterations {
            var bytes = seeds[i % seeds.count]
            Mutator.mutate(&bytes, &rng)
            bytes.withUnsafeBytes { fuzzPickle($0) }
            if (try? load(bytes)) != nil { parsed += 1 }
        }
        print("fuzzPickle: \(parsed) of \(Mutator.iterations) mutated pickles still parsed")
    }
}

/// Deterministic random numbers for mutation tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

/// Byte-level mutations in the style of libFuzzer: flips, overwrites with interesting values,
/// insertions, deletions, truncation.
enum Mutator {
    /// 3000 by default (well under a second); JUKEBOX_FUZZ_ITERATIONS=1000000 for a longer soak.
    static let iterations = Int(ProcessInfo.processInfo.environment["JUKEBOX_FUZZ_ITERATIONS"] ?? "") ?? 3000
    static let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x28, 0x2E, 0x52, 0x51, 0x68, 0x71, 0x58, 0x63, 0x93, 0x8A, 0x74]

    static func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix) {
        for _ in 0...rng.below(4) {
            guard !bytes.isEmpty else { bytes = [UInt8(rng.below(256))]; continue }
            let at = rng.below(bytes.count)
            switch rng.below(6) {
            case 0: bytes[at] ^= UInt8(1 << rng.below(8))
            case 1: bytes[at] = interesting[rng.below(interesting.count)]
            case 2: bytes.insert(UInt8(rng.below(256)), at: at)
            case 3: bytes.remove(at: at)
            case 4: bytes.removeLast(rng.below(min(bytes.count, 64)) + 1)
            default:
                let n = min(4, bytes.count - at)
                for k in 0..<n { bytes[at + k] = 0xFF }
            }
        }
    }
}
