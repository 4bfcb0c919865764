import Foundation
import JukeboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A program from a Debian package the corpus builder drives (FluidSynth, espeak-ng).
///
/// Started with posix_spawn and reaped with waitpid rather than Foundation's `Process`, which on
/// Linux can miss the exit of a child that ends at once and then waits forever.
struct ExternalTool: Sendable {
    let name: String
    let path: String
    /// The Debian package that provides it, named in the error when it is missing.
    let package: String

    /// Finds `name` on PATH or fails naming the package to install.
    static func locate(_ name: String, package: String) throws -> ExternalTool {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return ExternalTool(name: name, path: "\(dir)/\(name)", package: package)
        }
        throw JukeboxError(name, "not found on PATH (install the Debian package \(package))")
    }

    /// Runs the tool to completion; stdout is discarded, stderr kept for the error message.
    func run(_ arguments: [String]) throws {
        var errPipe: [Int32] = [0, 0]
        guard pipe(&errPipe) == 0 else { throw JukeboxError(name, "cannot create a pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, errPipe[0])
        posix_spawn_file_actions_addclose(&actions, errPipe[1])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(errPipe[1])
        defer { close(errPipe[0]) }
        guard rc == 0 else { throw JukeboxError(path, "cannot start (\(String(cString: strerror(rc))))") }
        var stderrBytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(errPipe[0], $0.baseAddress, $0.count) }
            if n > 0 { stderrBytes += buffer[0..<n] } else if n == 0 || errno != EINTR { break }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let said = String(decoding: stderrBytes, as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? "no message"
            let how = status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(status & 0x7f)"
            throw JukeboxError(name, "failed with \(how): \(said)")
        }
    }
}
