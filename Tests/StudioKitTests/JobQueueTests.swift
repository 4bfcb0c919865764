import Foundation
import JukeboxCore
import StudioKit
import XCTest

/// The studio's engine queue without an engine: jobs are closures that wait on gates the test opens.
final class JobQueueTests: XCTestCase {
    /// A job that blocks until opened (or cancelled), then records its name.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    /// Opened once, never closed again (a semaphore would trap if freed below its starting count).
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var open: Bool
        init(open: Bool = false) { self.open = open }
        func signal() { lock.lock(); open = true; lock.unlock() }
        var isOpen: Bool { lock.lock(); defer { lock.unlock() }; return open }
        func wait() { while !isOpen { usleep(1_000) } }
    }

    func gated(_ name: String, log: Log, gate: Gate) -> JobQueue.Job {
        { flag in
            while !gate.isOpen {
                if flag.isCancelled { log.add(name + " cancelled"); throw JukeboxError(name, "cancelled") }
                usleep(1_000)
            }
            log.add(name)
        }
    }

    func waitIdle(_ queue: JobQueue, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(5)
        while queue.isRunning && Date() < deadline { usleep(2_000) }
        usleep(20_000)  // a job submitted as the last one ended starts on its own thread
        while queue.isRunning && Date() < deadline { usleep(2_000) }
        XCTAssertFalse(queue.isRunning, "the queue went idle", file: file, line: line)
    }

    func testOneJobRunsAndTheLatestRequestWaitsForIt() {
        let log = Log(), failures = Log()
        let queue = JobQueue { error, cancelled in failures.add("\(error) \(cancelled)") }
        let a = Gate(), b = Gate(open: true), c = Gate(open: true)
        queue.submit(gated("a", log: log, gate: a))
        XCTAssertTrue(queue.isRunning)
        queue.submit(gated("b", log: log, gate: b))
        queue.submit(gated("c", log: log, gate: c))  // replaces b: only the newest request waits
        usleep(30_000)
        XCTAssertEqual(log.all, [], "nothing runs beside a")
        a.signal()
        waitIdle(queue)
        XCTAssertEqual(log.all, ["a", "c"])
        XCTAssertEqual(failures.all, [])
    }

    func testCancelStopsTheRunningJobAndDropsTheWaitingOne() {
        let log = Log(), failures = Log()
        let queue = JobQueue { error, cancelled in failures.add("\(cancelled)") }
        let a = Gate(), b = Gate(open: true)
        queue.submit(gated("a", log: log, gate: a))
        queue.submit(gated("b", log: log, gate: b))
        queue.cancelRunning()
        waitIdle(queue)
        XCTAssertEqual(log.all, ["a cancelled"])
        XCTAssertEqual(failures.all, ["true"], "the failure is reported as a cancel")
        // The queue takes new work afterwards.
        queue.submit(gated("d", log: log, gate: Gate(open: true)))
        waitIdle(queue)
        XCTAssertEqual(log.all, ["a cancelled", "d"])
    }

    func testAFailingJobIsReportedAndTheNextStillRuns() {
        let log = Log(), failures = Log()
        let queue = JobQueue { error, cancelled in failures.add("\(error) \(cancelled)") }
        let a = Gate()
        queue.submit { _ in a.wait(); throw JukeboxError("disk", "full") }
        queue.submit(gated("b", log: log, gate: Gate(open: true)))
        a.signal()
        waitIdle(queue)
        XCTAssertEqual(failures.all, ["disk: full false"])
        XCTAssertEqual(log.all, ["b"])
    }

    func testWorkAtASafePointRunsAtOnceWhenIdleElseOnceBetweenTokensOrAtTheEnd() {
        let log = Log()
        let queue = JobQueue { _, _ in }
        XCTAssertTrue(queue.atSafePoint { log.add("save idle") })
        XCTAssertEqual(log.all, ["save idle"])

        // Asked twice while a job runs: done once, at the job's next safe point.
        let step = Gate(), stepped = Gate(), finish = Gate()
        queue.submit { _ in
            step.wait()
            queue.safePoint()
            stepped.signal()
            finish.wait()
        }
        XCTAssertFalse(queue.atSafePoint { log.add("save 1") })
        XCTAssertFalse(queue.atSafePoint { log.add("save 2") })
        XCTAssertEqual(log.all, ["save idle"], "not while the job is between safe points")
        step.signal()
        stepped.wait()
        XCTAssertEqual(log.all, ["save idle", "save 2"])
        // Asked after the last safe point: done when the job ends.
        XCTAssertFalse(queue.atSafePoint { log.add("save 3") })
        finish.signal()
        waitIdle(queue)
        XCTAssertEqual(log.all, ["save idle", "save 2", "save 3"])
    }

    func testStopWaitsForACancelledJob() {
        let queue = JobQueue { _, _ in }
        queue.submit { flag in while !flag.isCancelled { usleep(1_000) } }
        XCTAssertTrue(queue.stop(waitingUpTo: 5))
        XCTAssertFalse(queue.isRunning)
    }
}
