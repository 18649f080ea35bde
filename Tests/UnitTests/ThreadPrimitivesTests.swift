import Posix
import Synchronization
import XCTest

/// The thread primitives behind the blocking pool and the executor: a detached thread runs its
/// body, a semaphore hands work across threads, and a thread's identity is its own.
final class ThreadPrimitivesTests: XCTestCase {
    final class Seen: Sendable {
        let wasCurrentThere = Atomic<Bool>(true)
        let ranOnOtherThread = Atomic<Bool>(false)
    }

    func testDetachedThreadRunsItsBodyOnAnotherThread() throws {
        let here = ThreadIdentity.current
        XCTAssertTrue(here.isCurrent)
        let done = Semaphore()
        let seen = Seen()
        try DetachedThread.start {
            seen.wasCurrentThere.store(here.isCurrent, ordering: .sequentiallyConsistent)
            seen.ranOnOtherThread.store(true, ordering: .sequentiallyConsistent)
            done.signal()
        }
        done.wait()  // returns only once the thread has run: the test would hang, not pass, otherwise
        XCTAssertTrue(seen.ranOnOtherThread.load(ordering: .sequentiallyConsistent))
        XCTAssertFalse(seen.wasCurrentThere.load(ordering: .sequentiallyConsistent), "another thread is not this one")
    }

    /// Three posts, three waits that return; a post made before the wait is not lost.
    func testSemaphoreCountsPosts() throws {
        let ready = Semaphore()
        ready.signal()
        ready.signal()
        ready.wait()
        ready.wait()
        let later = Semaphore()
        try DetachedThread.start { later.signal() }
        later.wait()
    }
}
