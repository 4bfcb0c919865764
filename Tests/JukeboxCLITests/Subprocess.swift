import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid.
///
/// Foundation's `Process` on Linux can miss the exit of a child that ends at once (tmux's client
/// returns within a millisecond): the child stays a zombie and `waitUntilExit` never returns, which
/// hung the studio's end-to-end tests on a machine where no tmux server was running yet.
final class Subprocess {
    let pid: pid_t
    private let stdoutFD: Int32
    private let stderrFD: Int32

    /// Starts `path` with `arguments`; stdin reads /dev/null; stdout and stderr are captured.
    init(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0)=\($1)" }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        pid = child
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
    }

    /// Reads both streams to their end (concurrently, so a chatty child never blocks on a full pipe),
    /// then reaps the child. A child killed by signal N reports 128 + N, as a shell would.
    func finish() -> CLIResult {
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errFD = stderrFD
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = Self.readAll(errFD); group.leave() }
        let out = Self.readAll(stdoutFD)
        group.wait()
        close(stdoutFD)
        close(stderrFD)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return CLIResult(status: code, stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CLIResult {
        try Subprocess(path, arguments, environment: environment).finish()
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(buffer, count: n) } else if n == 0 || errno != EINTR { break }
        }
        return data
    }
}
