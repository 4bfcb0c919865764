import Foundation
import JukeboxCore

/// Builds small torch checkpoints byte by byte (no Python at test time), in both of torch's
/// layouts, so tests can cover strided tensors, storage views, dtypes and ZIP64.
public enum TorchFileBuilder {
    /// torch's legacy magic number 0x1950a86a20f9469cfc6c, little-endian.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    public struct TensorSpec {
        public var storage: String
        public var dtype: String = "FloatStorage"
        public var storageCount: Int
        public var offset = 0
        public var size: [Int]
        public var stride: [Int]
        /// Legacy storage view: (view key, offset, size) inside the root storage.
        public var view: (String, Int, Int)? = nil

        public init(storage: String, dtype: String = "FloatStorage", storageCount: Int, offset: Int = 0, size: [Int],
                    stride: [Int], view: (String, Int, Int)? = nil) {
            self.storage = storage; self.dtype = dtype; self.storageCount = storageCount; self.offset = offset
            self.size = size; self.stride = stride; self.view = view
        }
    }

    public indirect enum Value {
        case str(String), int(Int), float(Double), bool(Bool), none
        case tuple([Value]), list([Value])
        case dict([(String, Value)])
        case orderedDict([(String, Value)])
        case tensor(TensorSpec)
    }

    /// A protocol-2 pickle writer using the opcodes torch.save emits.
    public struct PickleWriter {
        public var bytes: [UInt8] = [0x80, 0x02]
        public var legacyIds = true

        public init() {}

        public mutating func u32(_ n: Int) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: n >> (8 * i))) } }
        public mutating func str(_ s: String) { bytes.append(0x58); u32(s.utf8.count); bytes += Array(s.utf8) }
        public mutating func int(_ n: Int) {
            switch n {
            case 0...255: bytes += [0x4B, UInt8(n)]
            case 256...65535: bytes += [0x4D, UInt8(n & 0xFF), UInt8(n >> 8)]
            case Int(Int32.min)...Int(Int32.max): bytes.append(0x4A); u32(n)
            default: bytes += [0x8A, 8]; for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: n >> (8 * i))) }
            }
        }
        public mutating func float(_ d: Double) {
            bytes.append(0x47)
            for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: d.bitPattern >> (8 * UInt64(i)))) }
        }
        public mutating func global(_ module: String, _ name: String) { bytes.append(0x63); bytes += Array("\(module)\n\(name)\n".utf8) }

        public mutating func write(_ v: Value) {
            switch v {
            case .str(let s): str(s)
            case .int(let n): int(n)
            case .float(let d): float(d)
            case .bool(let b): bytes.append(b ? 0x88 : 0x89)
            case .none: bytes.append(0x4E)
            case .tuple(let items): bytes.append(0x28); items.forEach { write($0) }; bytes.append(0x74)
            case .list(let items): bytes.append(0x5D); bytes.append(0x28); items.forEach { write($0) }; bytes.append(0x65)
            case .dict(let entries):
                bytes.append(0x7D); bytes.append(0x28)
                for (k, v) in entries { str(k); write(v) }
                bytes.append(0x75)
            case .orderedDict(let entries):
                global("collections", "OrderedDict"); bytes += [0x29, 0x52, 0x28]
                for (k, v) in entries { str(k); write(v) }
                bytes.append(0x75)
            case .tensor(let t):
                global("torch._utils", "_rebuild_tensor_v2")
                bytes.append(0x28)  // args
                bytes.append(0x28)  // persistent id
                str("storage"); global("torch", t.dtype); str(t.storage); str("cpu"); int(t.storageCount)
                if legacyIds {
                    if let (key, o, n) = t.view { write(.tuple([.str(key), .int(o), .int(n)])) } else { bytes.append(0x4E) }
                }
                bytes.append(0x74); bytes.append(0x51)  // TUPLE, BINPERSID
                int(t.offset)
                write(.tuple(t.size.map { .int($0) }))
                write(.tuple(t.stride.map { .int($0) }))
                bytes.append(0x89)  // requires_grad False
                global("collections", "OrderedDict"); bytes += [0x29, 0x52]  // backward hooks
                bytes += [0x74, 0x52]  // TUPLE, REDUCE
            }
        }

        public mutating func stop() -> [UInt8] { bytes.append(0x2E); return bytes }
    }

    public static func pickle(_ v: Value, legacyIds: Bool = true) -> [UInt8] {
        var w = PickleWriter()
        w.legacyIds = legacyIds
        w.write(v)
        return w.stop()
    }

    /// torch's legacy layout: magic, protocol, sys_info, main pickle, storage keys, storages.
    public static func legacy(_ root: Value, storages: [(key: String, elementSize: Int, data: [UInt8])]) -> [UInt8] {
        var out = legacyHeader(root, keys: storages.map(\.key))
        for s in storages {
            let count = UInt64(s.data.count / s.elementSize)
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: count >> (8 * UInt64(i)))) }
            out += s.data
        }
        return out
    }

    /// Everything before the storages' data: magic, protocol, sys_info, main pickle, storage keys.
    public static func legacyHeader(_ root: Value, keys: [String]) -> [UInt8] {
        var out: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + legacyMagic + [0x2E]
        out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
        out += pickle(.dict([("protocol_version", .int(1001)), ("little_endian", .bool(true)),
                             ("type_sizes", .dict([("short", .int(2)), ("int", .int(4)), ("long", .int(4))]))]))
        out += pickle(root)
        out += pickle(.list(keys.map { .str($0) }))
        return out
    }

    /// torch's zip layout with stored entries; `zip64` forces ZIP64 records as a >4 GB archive has.
    public static func zip(_ root: Value, storages: [(key: String, data: [UInt8])], zip64: Bool = false) -> [UInt8] {
        var files: [(String, [UInt8])] = [("archive/data.pkl", pickle(root, legacyIds: false))]
        for s in storages { files.append(("archive/data/\(s.key)", s.data)) }
        files.append(("archive/version", Array("3\n".utf8)))
        return StoredZip.build(files, zip64: zip64)
    }

    public static func floats(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    public static func halves(_ values: [Float]) -> [UInt8] { values.map { HalfPrecision.f32ToF16($0) }.withUnsafeBytes { Array($0) } }
    public static func longs(_ values: [Int64]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
}

/// A minimal writer of ZIP archives with stored (uncompressed) entries.
public enum StoredZip {
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in data {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    public static func build(_ files: [(String, [UInt8])], zip64: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le(_ v: UInt64, _ n: Int, _ into: inout [UInt8]) { for i in 0..<n { into.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        for (name, data) in files {
            let offset = out.count
            let crc = crc32(data)
            let nameBytes = Array(name.utf8)
            // Local header.
            le(0x0403_4B50, 4, &out); le(20, 2, &out); le(0, 2, &out); le(0, 2, &out); le(0, 4, &out)
            le(UInt64(crc), 4, &out); le(UInt64(data.count), 4, &out); le(UInt64(data.count), 4, &out)
            le(UInt64(nameBytes.count), 2, &out); le(4, 2, &out)
            out += nameBytes
            le(0xCAFE, 2, &out); le(0, 2, &out)  // an empty extra field, as padding writers use
            out += data
            // Central directory entry.
            var extra: [UInt8] = []
            if zip64 { le(1, 2, &extra); le(24, 2, &extra); le(UInt64(data.count), 8, &extra); le(UInt64(data.count), 8, &extra); le(UInt64(offset), 8, &extra) }
            le(0x0201_4B50, 4, &central); le(45, 2, &central); le(20, 2, &central); le(0, 2, &central); le(0, 2, &central)
            le(0, 4, &central); le(UInt64(crc), 4, &central)
            le(zip64 ? 0xFFFF_FFFF : UInt64(data.count), 4, &central); le(zip64 ? 0xFFFF_FFFF : UInt64(data.count), 4, &central)
            le(UInt64(nameBytes.count), 2, &central); le(UInt64(extra.count), 2, &central); le(0, 2, &central)
            le(0, 2, &central); le(0, 2, &central); le(0, 4, &central)
            le(zip64 ? 0xFFFF_FFFF : UInt64(offset), 4, &central)
            central += nameBytes + extra
        }
        let directoryOffset = out.count
        out += central
        if zip64 {
            let record = out.count
            le(0x0606_4B50, 4, &out); le(44, 8, &out); le(45, 2, &out); le(45, 2, &out); le(0, 4, &out); le(0, 4, &out)
            le(UInt64(files.count), 8, &out); le(UInt64(files.count), 8, &out)
            le(UInt64(central.count), 8, &out); le(UInt64(directoryOffset), 8, &out)
            le(0x0706_4B50, 4, &out); le(0, 4, &out); le(UInt64(record), 8, &out); le(1, 4, &out)
        }
        le(0x0605_4B50, 4, &out); le(0, 2, &out); le(0, 2, &out)
        le(zip64 ? 0xFFFF : UInt64(files.count), 2, &out); le(zip64 ? 0xFFFF : UInt64(files.count), 2, &out)
        le(zip64 ? 0xFFFF_FFFF : UInt64(central.count), 4, &out); le(zip64 ? 0xFFFF_FFFF : UInt64(directoryOffset), 4, &out)
        le(0, 2, &out)
        return out
    }
}
