import Foundation

/// A read-only private mapping of a whole file (or an owned copy of bytes, for parsing from memory).
package final class MappedRegion: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let count: Int
    private let mapped: Bool

    package init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw JukeboxError(path, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JukeboxError(path, "cannot stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw JukeboxError(path, "not a regular file") }
        count = Int(st.st_size)
        if count == 0 {
            bytes = .allocate(byteCount: 1, alignment: 16)
            mapped = false
            return
        }
        // Read-only: weights are never written, and a writable private map of a file larger than
        // memory can be refused under the kernel's overcommit rules.
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw JukeboxError(path, "cannot memory-map (\(String(cString: strerror(errno))))") }
        bytes = p
        mapped = true
    }

    package init(copying source: [UInt8]) {
        let n = source.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        source.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: n) } }
        count = n
        bytes = p
        mapped = false
    }

    deinit {
        if mapped { munmap(bytes, count) } else { bytes.deallocate() }
    }

    /// The bytes as a buffer (empty files give an empty buffer).
    package var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: count == 0 ? nil : bytes, count: count) }

    /// Releases the whole pages inside `range` back to the page cache (mapped files only), so
    /// streaming through a checkpoint larger than memory does not keep it all resident.
    package func evict(_ range: Range<Int>) {
        guard mapped else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard page > 0, start < end, end <= count else { return }
        madvise(bytes + start, end - start, MADV_DONTNEED)
    }

    /// The same for the bytes at `pointer` (inside this region); anything else is left alone.
    package func evict(_ pointer: UnsafeRawPointer, count n: Int) {
        let start = pointer - UnsafeRawPointer(bytes)
        guard start >= 0, start + n <= count else { return }
        evict(start..<(start + n))
    }
}
