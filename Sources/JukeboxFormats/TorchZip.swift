import Foundation

/// torch's zip serialization (the default since torch 1.6): `<name>/data.pkl` is the main pickle and
/// `<name>/data/<key>` holds each storage's raw bytes.
package enum TorchZip {
    package static func parse(_ bytes: UnsafeRawBufferPointer, source: String) throws -> TorchLegacy.Layout {
        let zip = try ZipDirectory(bytes, source: source)
        guard let pickleEntry = zip.entries.filter({ $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") })
            .min(by: { $0.name.count < $1.name.count }) else {
            throw JukeboxError(source, "zip file without data.pkl: not a torch checkpoint")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = zip[prefix + "byteorder"] {
            let r = try zip.dataRange(order)
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
            guard text.hasPrefix("little") else { throw JukeboxError(source, "byte order \(text) is not supported") }
        }
        let pickleRange = try zip.dataRange(pickleEntry)
        let pickleBytes = UnsafeRawBufferPointer(rebasing: bytes[pickleRange])
        let pickleSource = source + " (\(pickleEntry.name))"
        let policy = Unpickler.Policy(torch: true, loadFromBytes: { data in
            try TorchLegacy.loadStorageFromBytes(data, source: pickleSource + " (storage pickled by value)", nesting: 1)
        })
        let main = try Unpickler.load(pickleBytes, start: 0, source: pickleSource, policy: policy)
        var locations: [String: StorageLocation] = [:]
        for (key, decl) in main.storages {
            guard let entry = zip[prefix + "data/" + key] else {
                throw JukeboxError(source, "storage \(key) is missing from the archive (\(prefix)data/\(key))")
            }
            let r = try zip.dataRange(entry)
            let byteCount = decl.count * decl.dtype.byteSize
            guard r.count >= byteCount else {
                throw JukeboxError(source, "storage \(key) has \(r.count) bytes but needs \(byteCount) (corrupt?)")
            }
            locations[key] = StorageLocation(start: r.lowerBound, byteCount: byteCount)
        }
        return TorchLegacy.Layout(root: main.value, locations: locations)
    }
}
