import Foundation

/// Builds a safetensors file: tensors in insertion order, header padded to 8 bytes so
/// float data stays aligned for memory-mapped reading.
public struct SafetensorsWriter {
    private var items: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, _ tensor: Tensor) {
        add(name, shape: tensor.shape, floats: UnsafeBufferPointer(start: tensor.data, count: tensor.count))
    }

    public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
        items.append((name, .f32, shape, Array(UnsafeRawBufferPointer(floats))))
    }

    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        floats.withUnsafeBufferPointer { add(name, shape: shape, floats: $0) }
    }

    public mutating func add(_ name: String, shape: [Int], int64s: [Int]) {
        let values = int64s.map { Int64($0).littleEndian }
        items.append((name, .i64, shape, values.withUnsafeBytes { Array($0) }))
    }

    /// Raw little-endian bytes of a given dtype (F16/BF16 weights kept as stored).
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        items.append((name, dtype, shape, bytes))
    }

    public func serialized() -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for item in items {
            header[item.name] = ["dtype": item.dtype.rawValue, "shape": item.shape,
                                 "data_offsets": [offset, offset + item.bytes.count]] as [String: Any]
            offset += item.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for item in items { out.append(contentsOf: item.bytes) }
        return out
    }

    public func write(to path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }
}

/// Writes that either land whole or not at all: temp file in the same folder, fsync, rename.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw JukeboxError(path, "cannot write (\(String(cString: strerror(errno))))") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { buf in
            while written < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + written, buf.count - written)
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        let error = String(cString: strerror(errno))
        let synced = fsync(fd) == 0
        close(fd)
        guard ok, synced, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw JukeboxError(path, "write failed (\(ok && synced ? String(cString: strerror(errno)) : error))")
        }
    }

    public static func write(_ data: Data, to path: String) throws {
        try write([UInt8](data), to: path)
    }
}
