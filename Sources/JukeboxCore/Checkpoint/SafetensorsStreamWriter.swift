import Foundation

/// Writes a safetensors file whose tensors are produced one chunk at a time, so converting a
/// 10 GB checkpoint never holds more than a chunk in memory (SafetensorsWriter keeps every tensor's
/// bytes until it serializes). The file lands whole or not at all: temp file, fsync, rename.
enum SafetensorsStreamWriter {
    struct Item {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }

    /// `fill(i, emit)` must emit exactly item i's bytes, in order.
    static func write(to path: String, items: [Item], metadata: [String: String],
                      fill: (Int, (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for item in items {
            header[item.name] = ["dtype": item.dtype.rawValue, "shape": item.shape,
                                 "data_offsets": [offset, offset + item.byteCount]] as [String: Any]
            offset += item.byteCount
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            throw JukeboxError(path, "cannot encode the safetensors header")
        }
        while json.count % 8 != 0 { json.append(0x20) }  // keeps the data 8-byte aligned for mmap

        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw JukeboxError(path, "cannot write (\(String(cString: strerror(errno))))") }
        var closed = false
        defer {
            if !closed { close(fd); unlink(tmp) }
        }
        func emit(_ buf: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw JukeboxError(path, "write failed (\(String(cString: strerror(errno))))") }
                done += n
            }
        }
        var length = UInt64(json.count).littleEndian
        try withUnsafeBytes(of: &length) { try emit($0) }
        try json.withUnsafeBytes { try emit($0) }
        for (i, item) in items.enumerated() {
            var written = 0
            try fill(i) { chunk in
                written += chunk.count
                guard written <= item.byteCount else { throw JukeboxError(path, "tensor \(item.name) produced too many bytes") }
                if chunk.count > 0 { try emit(chunk) }
            }
            guard written == item.byteCount else {
                throw JukeboxError(path, "tensor \(item.name) produced \(written) bytes, expected \(item.byteCount)")
            }
        }
        guard fsync(fd) == 0 else { throw JukeboxError(path, "fsync failed (\(String(cString: strerror(errno))))") }
        close(fd)
        closed = true
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw JukeboxError(path, "rename failed (\(why))")
        }
    }
}
