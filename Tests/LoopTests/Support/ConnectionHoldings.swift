import EventLoop
@testable import HTTPServer
import XCTest

/// What the loop's HTTP connections hold right now, counted process-wide: for the tests that check
/// a connection gives back what it does not need (idle, mid-head, waiting to send a file).
extension XCTestCase {
    /// Input buffers lent to connections.
    var buffersLent: Int { LoopActor.assumeIsolated { ConnectionBuffers.shared.heads.lent } }
    /// Parsers waiting in the loop's free list.
    var parsersIdle: Int { LoopActor.assumeIsolated { ConnectionBuffers.shared.idleParsers } }
    /// Request workers serving a connection (not waiting for one).
    var workersBusy: Int { LoopActor.assumeIsolated { RequestWorkers.shared.count - RequestWorkers.shared.idle } }
}
