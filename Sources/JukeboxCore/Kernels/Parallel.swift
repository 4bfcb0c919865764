import Dispatch

/// Splits `0..<count` into contiguous chunks run on all cores; small jobs stay on the caller's thread
/// because dispatching costs more than the work.
public func parallelFor(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = ProcessInfoCache.cores
    let chunks = min(workers, max(1, count / max(minChunk, 1)))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = count * c / chunks, hi = count * (c + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}

enum ProcessInfoCache {
    static let cores: Int = {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, n)
        #else
        return 1
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
