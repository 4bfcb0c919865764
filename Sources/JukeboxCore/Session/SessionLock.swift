import Foundation

/// Who may write a session folder: one process at a time. A writer (the studio, `jukebox sample` writing its
/// output) holds an exclusive lock on `session.lock` for as long as it works on the folder; a reader (a
/// continue or upsample reading its source) holds a shared one while it reads, so it never reads a codes
/// file and a session.json from two different saves. The lock is the kernel's (flock), so a holder that
/// dies, even by kill -9, holds nothing; the file's text only names the holder for the refusal message.
public final class SessionLock {
    public static let fileName = "session.lock"

    public enum Kind: Sendable { case write, read }

    public let path: String
    public let kind: Kind
    private var descriptor: Int32

    private init(path: String, kind: Kind, descriptor: Int32) {
        (self.path, self.kind, self.descriptor) = (path, kind, descriptor)
    }

    deinit { release() }

    /// Takes the lock of the session folder `folder`, or refuses in one line naming the process that holds it.
    /// A missing folder is made when `creating`, else refused.
    public static func acquire(_ folder: String, _ kind: Kind, creating: Bool = false,
                               holder: String = SessionLock.defaultHolder) throws -> SessionLock {
        if creating {
            try SessionFolder.makeFolder(folder)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
                throw JukeboxError(folder, "no such session folder")
            }
            guard isDirectory.boolValue else { throw JukeboxError(folder, "exists and is not a folder") }
        }
        let path = (folder as NSString).appendingPathComponent(fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JukeboxError(path, "cannot open the session's lock (\(String(cString: strerror(errno))))") }
        guard flock(fd, (kind == .write ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            guard busy else { throw JukeboxError(path, "cannot lock the session (\(reason))") }
            let who = text.isEmpty ? "another process" : text
            throw JukeboxError(folder, "the session is open in \(who); close it there first, or use another folder")
        }
        let lock = SessionLock(path: path, kind: kind, descriptor: fd)
        if kind == .write {
            // Only a writer names itself: readers share the lock, and one's name would overwrite another's.
            let line = Data((holder + "\n").utf8)
            ftruncate(fd, 0)
            _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return lock
    }

    /// Gives the lock back (also when the lock is freed, or the process ends in any way).
    public func release() {
        guard descriptor >= 0 else { return }
        // A writer that leaves takes its name with it (one killed leaves it, for the next writer to replace).
        if kind == .write { ftruncate(descriptor, 0) }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// "jukebox-studio (pid 1234, since 2026-12-06 02:10:00)".
    public static var defaultHolder: String {
        let name = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? "a process"
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return "\(name) (pid \(getpid()), since \(f.string(from: Date())))"
    }
}
