import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 file server on 127.0.0.1 for tests: serves a folder with byte ranges, and can be told
/// to misbehave per path (close the connection partway, answer 404, lie about a file's length), so a
/// download's resume and failure paths meet a real socket. One connection at a time, each closed after
/// its response.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public enum Fault: Sendable {
        /// Announce the whole length, send bytes up to this offset of the file, then close.
        case cutAt(Int)
        case notFound
        /// Announce `extra` more bytes than the file holds, send the file, then close.
        case overstate(extra: Int)
        /// Announce the whole length, send bytes up to this offset, then wait until the client hangs up.
        case stallAt(Int)
    }

    /// A request as the server saw it: the path and the first byte asked for (0 without a Range header).
    public struct Request: Sendable, Equatable {
        public let path: String
        public let rangeStart: Int
    }

    public let root: String
    public private(set) var port: UInt16 = 0
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var faults: [String: [Fault]] = [:]
    private var log: [Request] = []
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(root: String) { self.root = root }

    public var baseURL: String { "http://127.0.0.1:\(port)/" }

    /// Requests served so far.
    public var requests: [Request] { lock.lock(); defer { lock.unlock() }; return log }

    /// Queues a fault for the next request of `path` (each request takes the next queued one).
    public func inject(_ fault: Fault, path: String) {
        lock.lock(); defer { lock.unlock() }
        faults[path, default: []].append(fault)
    }

    public func start() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        self.thread = thread
        thread.start()
    }

    public func stop() {
        guard listener >= 0 else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        listener = -1
        stopped.wait()
    }

    private func serve() {
        defer { stopped.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ fd: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.containsHeaderEnd {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return }
            received += buffer[0..<n]
        }
        let head = String(decoding: received, as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return reply(fd, status: "400 Bad Request", headers: [], body: []) }
        let path = String(parts[1]).removingPercentEncoding ?? String(parts[1])
        var rangeStart = 0
        for line in lines.dropFirst() where line.lowercased().hasPrefix("range: bytes=") {
            rangeStart = Int(line.dropFirst("range: bytes=".count).split(separator: "-").first ?? "") ?? 0
        }
        lock.lock()
        log.append(Request(path: path, rangeStart: rangeStart))
        let fault = faults[path]?.isEmpty == false ? faults[path]!.removeFirst() : nil
        lock.unlock()

        let file = root + path
        guard !path.contains(".."), fault.map({ if case .notFound = $0 { return false } else { return true } }) ?? true,
              let data = FileManager.default.contents(atPath: file) else {
            return reply(fd, status: "404 Not Found", headers: [], body: Array("not found\n".utf8))
        }
        let bytes = [UInt8](data)
        if rangeStart >= bytes.count, rangeStart > 0 {
            return reply(fd, status: "416 Range Not Satisfiable", headers: ["Content-Range: bytes */\(bytes.count)"], body: [])
        }
        let body = Array(bytes[rangeStart...])
        var announced = body.count
        var sent = body
        switch fault {
        case .cutAt(let offset)?: sent = Array(body.prefix(max(0, offset - rangeStart)))
        case .overstate(let extra)?: announced += extra
        case .stallAt(let offset)?: sent = Array(body.prefix(max(0, offset - rangeStart)))
        default: break
        }
        if rangeStart > 0 {
            reply(fd, status: "206 Partial Content", headers: ["Content-Range: bytes \(rangeStart)-\(rangeStart + announced - 1)/\(bytes.count)"],
                  body: sent, announced: announced)
        } else {
            reply(fd, status: "200 OK", headers: [], body: sent, announced: announced)
        }
        if case .stallAt? = fault { waitForHangUp(fd) }
    }

    /// Holds a connection open (at most a minute) until the client closes it or the server stops.
    private func waitForHangUp(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 256)
        for _ in 0..<600 where listener >= 0 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0, recv(fd, &scratch, scratch.count, 0) <= 0 { return }
        }
    }

    private func reply(_ fd: Int32, status: String, headers: [String], body: [UInt8], announced: Int? = nil) {
        var head = "HTTP/1.1 \(status)\r\nContent-Length: \(announced ?? body.count)\r\nAccept-Ranges: bytes\r\n"
            + "Content-Type: application/octet-stream\r\nConnection: close\r\n"
        for h in headers { head += h + "\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 { return true }
        return false
    }
}
