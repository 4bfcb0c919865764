import Foundation

/// The central directory of a ZIP archive held in memory (or memory-mapped), enough to find the
/// byte range of each *stored* entry. torch's zip checkpoints never compress their entries, so a
/// storage can be read in place from the mapping with no copy — a general ZIP library would have to
/// extract each multi-gigabyte entry into a buffer first. ZIP64 (archives over 4 GB) is handled.
package struct ZipDirectory {
    struct Entry {
        let name: String
        let method: Int
        let flags: Int
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let entries: [Entry]
    private let byName: [String: Int]
    private let bytes: UnsafeRawBufferPointer
    private let source: String

    package static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    subscript(name: String) -> Entry? { byName[name].map { entries[$0] } }

    init(_ bytes: UnsafeRawBufferPointer, source: String) throws {
        self.bytes = bytes
        self.source = source
        func fail(_ why: String) -> JukeboxError { JukeboxError(source, "corrupt zip checkpoint: \(why)") }
        func u(_ at: Int, _ n: Int) throws -> Int {
            guard at >= 0, n <= 8, at <= bytes.count - n else { throw fail("a field at byte \(at) lies past the end (truncated?)") }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            guard v < 1 << 62 else { throw fail("a size or offset at byte \(at) is out of range") }
            return Int(v)
        }

        // End of central directory: 22 bytes plus a comment of up to 64 KB at the very end.
        var eocd = -1
        var at = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while at >= lowest {
            if try u(at, 4) == 0x0605_4B50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (truncated?)") }
        var count = try u(eocd + 10, 2)
        var directorySize = try u(eocd + 12, 4)
        var directoryOffset = try u(eocd + 16, 4)
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locator = eocd - 20
            guard try u(locator, 4) == 0x0706_4B50 else { throw fail("ZIP64 locator missing") }
            let record = try u(locator + 8, 8)
            guard try u(record, 4) == 0x0606_4B50 else { throw fail("ZIP64 end-of-central-directory record missing") }
            count = try u(record + 32, 8)
            directorySize = try u(record + 40, 8)
            directoryOffset = try u(record + 48, 8)
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset,
              count <= directorySize / 46 + 1 else { throw fail("central directory lies outside the file (truncated?)") }

        var entries: [Entry] = []
        var byName: [String: Int] = [:]
        var p = directoryOffset
        for _ in 0..<count {
            guard try u(p, 4) == 0x0201_4B50 else { throw fail("bad central directory entry at byte \(p)") }
            let flags = try u(p + 8, 2), method = try u(p + 10, 2)
            var compressed = try u(p + 20, 4), size = try u(p + 24, 4)
            let nameLength = try u(p + 28, 2), extraLength = try u(p + 30, 2), commentLength = try u(p + 32, 2)
            var offset = try u(p + 42, 4)
            let nameStart = p + 46
            guard nameStart + nameLength + extraLength + commentLength <= bytes.count else { throw fail("entry name past the end") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]), as: UTF8.self)
            // ZIP64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in this order.
            var e = nameStart + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u(e, 2), length = try u(e + 2, 2)
                guard e + 4 + length <= extraEnd else { throw fail("entry \(name): bad extra field") }
                if id == 0x0001 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF { guard q + 8 <= e + 4 + length else { throw fail("entry \(name): short ZIP64 field") }; size = try u(q, 8); q += 8 }
                    if compressed == 0xFFFF_FFFF { guard q + 8 <= e + 4 + length else { throw fail("entry \(name): short ZIP64 field") }; compressed = try u(q, 8); q += 8 }
                    if offset == 0xFFFF_FFFF { guard q + 8 <= e + 4 + length else { throw fail("entry \(name): short ZIP64 field") }; offset = try u(q, 8); q += 8 }
                }
                e += 4 + length
            }
            if byName[name] == nil { byName[name] = entries.count }
            entries.append(Entry(name: name, method: method, flags: flags, compressedSize: compressed,
                                 uncompressedSize: size, localHeaderOffset: offset))
            p = extraEnd + commentLength
        }
        self.entries = entries
        self.byName = byName
    }

    /// Where an entry's bytes lie in the archive. Only stored (uncompressed, unencrypted) entries.
    func dataRange(_ entry: Entry) throws -> Range<Int> {
        func fail(_ why: String) -> JukeboxError { JukeboxError(source, "zip entry \(entry.name): \(why)") }
        guard entry.flags & 1 == 0 else { throw fail("is encrypted") }
        guard entry.method == 0 else {
            throw fail("is compressed (method \(entry.method)); torch writes stored entries — was the archive re-zipped?")
        }
        guard entry.compressedSize == entry.uncompressedSize else { throw fail("stored entry with two different sizes") }
        let h = entry.localHeaderOffset
        guard h >= 0, h <= bytes.count - 30 else { throw fail("local header past the end (truncated?)") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        guard bytes[h] == 0x50, bytes[h + 1] == 0x4B, bytes[h + 2] == 0x03, bytes[h + 3] == 0x04 else { throw fail("bad local header") }
        let start = h + 30 + u16(h + 26) + u16(h + 28)
        guard start <= bytes.count, entry.uncompressedSize <= bytes.count - start else {
            throw fail("data runs past the end of the file (truncated?)")
        }
        return start..<(start + entry.uncompressedSize)
    }
}
