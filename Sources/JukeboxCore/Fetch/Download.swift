import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches one URL (http, https or file) into a file. Bytes go to `<destination>.part` as they arrive,
/// so an interrupted download keeps what it had and the next call asks for the rest with an HTTP Range
/// request. The file is renamed into place only when its size is the one the server announced, so a
/// file at `destination` is always whole and is never fetched again.
public enum Download {
    /// Bytes so far (counting those kept from an earlier try) and the whole size once the server has said.
    public typealias Progress = (_ received: Int64, _ total: Int64?) -> Void

    public static func partialPath(_ destination: String) -> String { destination + ".part" }

    /// Downloads `url` to `destination` unless a finished file is there; returns its size.
    @discardableResult
    public static func fetch(_ url: URL, to destination: String, cancel: CancelFlag? = nil,
                             progress: Progress? = nil) throws -> Int64 {
        if let size = fileSize(destination) { return size }
        let part = partialPath(destination)
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let fd = open(part, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { throw JukeboxError(part, "cannot write (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        let target = PartialFile(fd: fd, path: part)

        let total: Int64?
        switch url.scheme?.lowercased() {
        case "file": total = try copyLocal(url, into: target, cancel: cancel, progress: progress)
        case "http", "https": total = try transfer(url, into: target, cancel: cancel, progress: progress)
        default: throw JukeboxError(url.absoluteString, "unsupported URL scheme (use http, https or file)")
        }
        let size = target.size
        if let total, size != total {
            throw JukeboxError(url.absoluteString, "received \(size) of \(total) bytes; run again to resume")
        }
        guard fsync(fd) == 0, rename(part, destination) == 0 else {
            throw JukeboxError(destination, "cannot finish the download (\(String(cString: strerror(errno))))")
        }
        return size
    }

    /// The size of a regular file; nil when there is none.
    public static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// The `.part` file being filled: appends, or starts again from nothing.
    final class PartialFile: @unchecked Sendable {
        let fd: Int32, path: String
        private(set) var size: Int64

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            size = Int64(lseek(fd, 0, SEEK_END))
        }

        func restart() throws {
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                throw JukeboxError(path, "cannot truncate (\(String(cString: strerror(errno))))")
            }
            size = 0
        }

        func append(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw JukeboxError(path, "cannot write (\(String(cString: strerror(errno))))")
                }
                offset += n
                size += Int64(n)
            }
        }
    }

    // MARK: file://

    /// A local file or mirror: copied in chunks from where the partial file ends.
    static func copyLocal(_ url: URL, into target: PartialFile, cancel: CancelFlag?, progress: Progress?) throws -> Int64 {
        let source = url.path
        let fd = open(source, O_RDONLY)
        guard fd >= 0 else { throw JukeboxError(url.absoluteString, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw JukeboxError(url.absoluteString, "not a file") }
        let total = Int64(st.st_size)
        if target.size > total { try target.restart() }
        guard lseek(fd, off_t(target.size), SEEK_SET) >= 0 else {
            throw JukeboxError(url.absoluteString, "cannot seek (\(String(cString: strerror(errno))))")
        }
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        progress?(target.size, total)
        while target.size < total {
            if cancel?.isCancelled == true { throw interrupted(url, target, total) }
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }  // the file shrank: the size check names it
            try target.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            progress?(target.size, total)
        }
        return total
    }

    static func interrupted(_ url: URL, _ target: PartialFile, _ total: Int64?) -> JukeboxError {
        JukeboxError(url.absoluteString, "interrupted after \(target.size)\(total.map { " of \($0)" } ?? "") bytes, "
                     + "kept in \(target.path); run again to resume")
    }

    // MARK: http(s)://

    static func transfer(_ url: URL, into target: PartialFile, cancel: CancelFlag?, progress: Progress?) throws -> Int64? {
        // A server that cannot serve the missing range (416 on a stale partial file) gets one fresh try.
        for _ in 0..<2 {
            let transfer = Transfer(url: url, target: target, progress: progress)
            let outcome = try transfer.run(cancel: cancel)
            switch outcome {
            case .finished(let total): return total
            case .restart: try target.restart()
            }
        }
        throw JukeboxError(url.absoluteString, "the server refused the download twice (HTTP 416)")
    }

    /// One HTTP request, its body streamed into the partial file.
    final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        enum Outcome { case finished(total: Int64?), restart }

        let url: URL, target: PartialFile, progress: Progress?
        private let done = DispatchSemaphore(value: 0)
        // Written on the session's serial delegate queue, read after `done` is signalled.
        private var failure: JukeboxError?
        private var transportError: Error?
        private var total: Int64?
        private var restartWanted = false
        private var complete = false

        init(url: URL, target: PartialFile, progress: Progress?) {
            self.url = url
            self.target = target
            self.progress = progress
        }

        func run(cancel: CancelFlag?) throws -> Outcome {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = 60  // seconds without a byte
            configuration.timeoutIntervalForResource = 7 * 24 * 3600
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = 1
            let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
            defer { session.finishTasksAndInvalidate() }
            var request = URLRequest(url: url)
            if target.size > 0 { request.setValue("bytes=\(target.size)-", forHTTPHeaderField: "Range") }
            let task = session.dataTask(with: request)
            task.resume()
            var cancelled = false
            while done.wait(timeout: .now() + 0.2) == .timedOut {
                if cancel?.isCancelled == true, !cancelled {
                    cancelled = true
                    task.cancel()
                }
            }
            queue.waitUntilAllOperationsAreFinished()
            if let failure { throw failure }
            if cancelled { throw Download.interrupted(url, target, total) }
            if restartWanted { return .restart }
            if complete { return .finished(total: total) }
            if let transportError {
                let kept = target.size > 0 ? " after \(target.size)\(total.map { " of \($0)" } ?? "") bytes; run again to resume" : ""
                throw JukeboxError(url.absoluteString, Download.describe(transportError) + kept)
            }
            return .finished(total: total)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            guard let http = response as? HTTPURLResponse else {
                failure = JukeboxError(url.absoluteString, "not an HTTP response")
                return completionHandler(.cancel)
            }
            do {
                switch http.statusCode {
                case 200:
                    // The whole file: a server that ignores Range starts us again from the first byte.
                    if target.size > 0 { try target.restart() }
                    total = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
                case 206:
                    let range = Download.contentRange(http.value(forHTTPHeaderField: "Content-Range"))
                    guard let start = range?.start, start == target.size else {
                        throw JukeboxError(url.absoluteString, "the server answered a resume from byte \(target.size) "
                                           + "with \(http.value(forHTTPHeaderField: "Content-Range") ?? "no Content-Range")")
                    }
                    total = range?.total
                case 416:
                    // Nothing left to send: whole if the partial file is as long as the resource.
                    let whole = Download.contentRange(http.value(forHTTPHeaderField: "Content-Range"))?.total
                    if let whole, whole == target.size { total = whole; complete = true } else { restartWanted = true }
                    return completionHandler(.cancel)
                default:
                    throw JukeboxError(url.absoluteString, "HTTP \(http.statusCode) \(HTTPURLResponse.localizedString(forStatusCode: http.statusCode))")
                }
            } catch {
                failure = error as? JukeboxError ?? JukeboxError(url.absoluteString, "\(error)")
                return completionHandler(.cancel)
            }
            progress?(target.size, total)
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard failure == nil else { return }
            do {
                try data.withUnsafeBytes { try target.append($0) }
                if let total, target.size > total {
                    throw JukeboxError(url.absoluteString, "the server sent more than the \(total) bytes it announced")
                }
            } catch {
                failure = error as? JukeboxError ?? JukeboxError(url.absoluteString, "\(error)")
                try? target.restart()  // bytes past the announced end: nothing of this try can be trusted
                dataTask.cancel()
                return
            }
            progress?(target.size, total)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            if let error, failure == nil, !complete, !restartWanted { transportError = error }
            done.signal()
        }
    }

    /// `bytes START-END/TOTAL` or `bytes */TOTAL`; TOTAL may be `*`.
    static func contentRange(_ header: String?) -> (start: Int64?, total: Int64?)? {
        guard let header, header.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = header.dropFirst("bytes ".count)
        let halves = spec.split(separator: "/", maxSplits: 1).map(String.init)
        guard halves.count == 2 else { return nil }
        let start = halves[0] == "*" ? nil : halves[0].split(separator: "-").first.flatMap { Int64($0) }
        return (start, Int64(halves[1]))
    }

    /// A transport error as one line (curl's own words where Foundation carries them).
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        var e: NSError? = ns
        while let current = e {
            if let text = current.userInfo[NSLocalizedDescriptionKey] as? String, !text.isEmpty, text != "(null)" { return text }
            e = current.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        switch ns.code {
        case NSURLErrorTimedOut: return "timed out"
        case NSURLErrorCannotConnectToHost: return "cannot connect to the server"
        case NSURLErrorCannotFindHost: return "cannot find the server (no network?)"
        case NSURLErrorNetworkConnectionLost: return "the connection was lost"
        default: return "download failed (\(ns.domain) \(ns.code))"
        }
    }
}
