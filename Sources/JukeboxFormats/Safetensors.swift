import Foundation

/// Element types a safetensors file may hold that the engine reads.
public enum SafetensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i8 = "I8", u8 = "U8"

    public var byteSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i64: 8
        case .i8, .u8: 1
        }
    }
}

public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range within the data section (after the header).
    public let begin: Int
    public let end: Int
    public var count: Int { shape.reduce(1, *) }
}

/// A memory-mapped, validated safetensors file. Every entry is checked against the file's size
/// when the file opens, so reading an entry later never goes out of bounds.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let entries: [String: SafetensorsEntry]
    /// Entry names in the order of their data (the order they were written).
    public let names: [String]
    public let metadata: [String: String]
    package let region: MappedRegion
    private let dataStart: Int

    public convenience init(path: String) throws {
        let region = try MappedRegion(path: path)
        try self.init(path: path, region: region)
    }

    /// Parses safetensors bytes already in memory (used by the fuzz entry point).
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(path: name, region: MappedRegion(copying: bytes))
    }

    private init(path: String, region: MappedRegion) throws {
        self.path = path
        self.region = region
        let size = region.count
        func fail(_ why: String) -> JukeboxError { JukeboxError(path, why) }
        guard size >= 8 else { throw fail("not a safetensors file (only \(size) bytes)") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(region.bytes.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(size - 8), headerLength < 100_000_000 else {
            throw fail("truncated or corrupt safetensors header (header length \(headerLength), file \(size) bytes)")
        }
        let headerData = Data(bytes: region.bytes + 8, count: Int(headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw fail("corrupt safetensors header (not a JSON object)")
        }
        dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in meta {
                    guard let s = v as? String else { throw fail("metadata \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw fail("tensor \(name): entry is not an object") }
            guard let dt = info["dtype"] as? String else { throw fail("tensor \(name): missing dtype") }
            guard let dtype = SafetensorsDType(rawValue: dt) else { throw fail("tensor \(name): unsupported dtype \(dt)") }
            guard let shapeAny = info["shape"] as? [Any], let offsAny = info["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw fail("tensor \(name): missing or malformed shape/data_offsets")
            }
            var shape: [Int] = []
            var elements = 1
            for d in shapeAny {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n < 1 << 40 else { throw fail("tensor \(name): bad dimension \(d)") }
                shape.append(n)
                let (m, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, m < 1 << 40 else { throw fail("tensor \(name): shape \(shape) is too large") }
                elements = m
            }
            guard let begin = (offsAny[0] as? NSNumber)?.intValue, let end = (offsAny[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else { throw fail("tensor \(name): bad data_offsets") }
            guard end <= dataSize else {
                throw fail("tensor \(name): data ends at byte \(end) but the file holds only \(dataSize) (truncated?)")
            }
            guard end - begin == elements * dtype.byteSize else {
                throw fail("tensor \(name): \(end - begin) bytes do not hold shape \(shape) of \(dt)")
            }
            entries[name] = SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
        }
        // Tensors share no bytes: two names over one range would let a write through one change the other.
        let ordered = entries.values.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        var previous: SafetensorsEntry?
        for e in ordered where e.end > e.begin {
            if let p = previous, e.begin < p.end {
                throw fail("tensors \(p.name) and \(e.name) overlap (bytes \(e.begin)..<\(min(p.end, e.end)))")
            }
            previous = e
        }
        self.entries = entries
        self.metadata = metadata
        names = ordered.map(\.name)
    }

    public func entry(_ name: String) throws -> SafetensorsEntry {
        guard let e = entries[name] else { throw JukeboxError(path, "no tensor named \(name)") }
        return e
    }

    package func raw(_ e: SafetensorsEntry) -> UnsafeMutableRawPointer { region.bytes + dataStart + e.begin }

    /// A tensor's stored bytes, as they are (for copying it into another file).
    package func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let e = try entry(name)
        return UnsafeRawBufferPointer(start: raw(e), count: e.end - e.begin)
    }

    /// An entry's bytes in the mapping, alive as long as the returned owner.
    package func bytes(_ e: SafetensorsEntry) -> (pointer: UnsafeRawPointer, owner: AnyObject) {
        (UnsafeRawPointer(raw(e)), region)
    }

    /// Integer data (I64 or I32) as Int.
    public func int64s(_ name: String) throws -> [Int] {
        let e = try entry(name)
        let p = raw(e)
        switch e.dtype {
        case .i64: return (0..<e.count).map { Int(p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0..<e.count).map { Int(p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        default: throw JukeboxError(path, "tensor \(name) holds \(e.dtype.rawValue), not integers")
        }
    }
}
