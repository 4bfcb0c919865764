import Foundation

/// torch's legacy serialization (`torch.save(..., _use_new_zipfile_serialization=False)`), the
/// format of the published Jukebox checkpoints. One file holds, back to back:
///   1. a pickle of the magic number 0x1950a86a20f9469cfc6c,
///   2. a pickle of the protocol version (1001),
///   3. a pickle of sys_info ({protocol_version, little_endian, type_sizes}),
///   4. the main pickle, whose tensors name their storages through persistent ids,
///   5. a pickle of the list of storage keys,
///   6. for each key in that order: its element count (8 bytes, little-endian), then its raw data.
package enum TorchLegacy {
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    package struct Layout {
        package let root: PickleValue
        /// Byte range of each storage's data within the parsed bytes.
        package let locations: [String: StorageLocation]
    }

    /// Legacy files start with the PROTO opcode and a LONG1 of ten bytes (the magic number).
    package static func looksLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x80 && bytes[2] == 0x8A && bytes[3] == 0x0A
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer, source: String, nesting: Int = 0) throws -> Layout {
        func fail(_ why: String) -> JukeboxError { JukeboxError(source, why) }

        let magicPickle = try Unpickler.load(bytes, start: 0, source: source)
        guard case .bigInt(let m) = magicPickle.value, m == magic else {
            throw fail("not a torch checkpoint (wrong magic number)")
        }
        let version = try Unpickler.load(bytes, start: magicPickle.end, source: source)
        guard case .int(let protocolVersion) = version.value else { throw fail("torch protocol version is not an integer") }
        guard protocolVersion == 1001 else { throw fail("torch protocol version \(protocolVersion) is not supported (expected 1001)") }
        let sysInfo = try Unpickler.load(bytes, start: version.end, source: source)
        if case .bool(false) = sysInfo.value["little_endian"] ?? .bool(true) {
            throw fail("the checkpoint was written on a big-endian machine; not supported")
        }

        var policy = Unpickler.Policy(torch: true, loadFromBytes: nil)
        if nesting < 2 {
            policy.loadFromBytes = { data in
                try loadStorageFromBytes(data, source: source + " (storage pickled by value)", nesting: nesting + 1)
            }
        }
        let main = try Unpickler.load(bytes, start: sysInfo.end, source: source, policy: policy)
        let keysPickle = try Unpickler.load(bytes, start: main.end, source: source)
        guard let keyValues = keysPickle.value.sequence else { throw fail("the storage key list is not a list") }

        let declared = Dictionary(main.storages.map { ($0.key, $0.decl) }, uniquingKeysWith: { a, _ in a })
        var locations: [String: StorageLocation] = [:]
        var offset = keysPickle.end
        for value in keyValues {
            guard let key = value.stringValue else { throw fail("a storage key is not a string") }
            guard let decl = declared[key] else { throw fail("storage \(key) is listed but no tensor uses it") }
            guard locations[key] == nil else { throw fail("storage \(key) is listed twice") }
            guard offset <= bytes.count - 8 else {
                throw fail("truncated: storage \(key) should start at byte \(offset) but the file has \(bytes.count) bytes")
            }
            var count: UInt64 = 0
            for i in 0..<8 { count |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            guard count == UInt64(decl.count) else {
                throw fail("storage \(key) holds \(count) elements but the pickle declares \(decl.count) (corrupt?)")
            }
            let byteCount = decl.count * decl.dtype.byteSize
            let start = offset + 8
            guard byteCount <= bytes.count - start else {
                throw fail("truncated: storage \(key) needs \(byteCount) bytes at byte \(start) but the file has \(bytes.count)")
            }
            locations[key] = StorageLocation(start: start, byteCount: byteCount)
            offset = start + byteCount
        }
        for (key, _) in main.storages where locations[key] == nil {
            throw fail("storage \(key) is used by a tensor but missing from the storage list")
        }
        return Layout(root: main.value, locations: locations)
    }

    /// `torch.storage._load_from_bytes(b)`: `b` is a whole legacy file whose object is one storage.
    package static func loadStorageFromBytes(_ data: [UInt8], source: String, nesting: Int) throws -> TorchStorageRef {
        try data.withUnsafeBytes { buf in
            let layout = try parse(buf, source: source, nesting: nesting)
            guard case .storage(let ref) = layout.root, let loc = layout.locations[ref.key] else {
                throw JukeboxError(source, "bytes pickled as a storage do not hold one storage")
            }
            let raw = UnsafeRawBufferPointer(rebasing: buf[loc.start..<(loc.start + loc.byteCount)])
            return TorchStorageRef(key: ref.key, dtype: ref.dtype, rootCount: ref.rootCount, viewOffset: ref.viewOffset,
                                   viewCount: ref.viewCount, inline: InlineStorageBytes(copying: raw))
        }
    }
}

/// Byte range of one storage's data inside the checkpoint file.
package struct StorageLocation {
    package let start: Int
    package let byteCount: Int
}
