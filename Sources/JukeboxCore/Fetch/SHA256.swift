import CKernels
import Foundation

/// SHA-256 digests of downloads and of the files of a fetched set (fetch.json), as lowercase hex.
public struct SHA256 {
    private var state = jk_sha256()

    public init() { jk_sha256_init(&state) }

    /// Whether the CPU's SHA instructions do the rounds (where it has them); false forces the portable code.
    public static var usesExtensions: Bool {
        get { jk_sha256_uses_extensions() != 0 }
        set { jk_sha256_use_extensions(newValue ? 1 : 0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        jk_sha256_update(&state, base, bytes.count)
    }

    public mutating func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        jk_sha256_final(&state, &digest)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    public static func hex(of data: Data) -> String {
        var h = SHA256()
        data.withUnsafeBytes { h.update($0) }
        return h.finalize()
    }

    /// The digest of a file read in large chunks; `progress` gets the bytes hashed so far.
    public static func hex(ofFile path: String, progress: ((Int64) -> Void)? = nil) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw JukeboxError(path, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var h = SHA256()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw JukeboxError(path, "cannot read (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += Int64(n)
            progress?(done)
        }
        return h.finalize()
    }
}
