import Glibc
import Posix
import XCTest

@testable import EventLoop

/// A connection's reads through the funnel, on the test process's loop (run on the test thread
/// until the task is done): data and the peer's FIN are results, not failures; a reset is kept as
/// a `SystemError` naming the call, the descriptor and the errno.
final class ConnectionFailureTests: XCTestCase {
    /// What the connection's task saw, read back on the test thread once the loop stopped.
    final class Outcome: @unchecked Sendable {
        var results: [Connection.ReadResult] = []
        var failure: SystemError?
        var error: (any Error)?
    }

    /// Runs `body` as a `LoopActor` task on the test process's loop, driven on this thread until
    /// the task is done.
    private func runOnLoop(_ body: @escaping @LoopActor @Sendable () async -> Void) throws {
        let testLoop = try TestLoop.shared()
        let done = testLoop.spawn { () async -> Bool in
            await body()
            return true
        }
        _ = try testLoop.result(of: done, "the connection's task")
    }

    func testDataThenFinAreResultsNotFailures() throws {
        let (mine, peer) = try Socket.nonBlockingStreamPair()
        try peer.writeAll("ping")
        peer.close()
        let outcome = Outcome()
        try runOnLoop {
            do {
                let connection = try Connection(adopting: mine)
                for _ in 0..<2 { outcome.results.append(await connection.read(into: EventLoop.current.sharedBuffer, timeout: .seconds(10))) }
                outcome.failure = connection.failure
                connection.close()
            } catch {
                outcome.error = error
            }
        }
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.results, [.bytes(4), .closed])
        XCTAssertNil(outcome.failure, "a FIN is the end of the stream, not a failure")
    }

    /// A unix stream peer that closes with our bytes unread resets the connection (`ECONNRESET`).
    func testResetIsKeptAsASystemError() throws {
        let (mine, peer) = try Socket.nonBlockingStreamPair()
        try mine.writeAll("unread by the peer")
        peer.close()
        let outcome = Outcome()
        try runOnLoop {
            do {
                let connection = try Connection(adopting: mine)
                outcome.results.append(await connection.read(into: EventLoop.current.sharedBuffer, timeout: .seconds(10)))
                outcome.failure = connection.failure
                connection.close()
            } catch {
                outcome.error = error
            }
        }
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.results, [.closed])
        let failure = try XCTUnwrap(outcome.failure, "the reset is recorded")
        XCTAssertEqual(failure.syscall, "recv")
        XCTAssertEqual(failure.errno, .connectionReset)
        XCTAssertEqual(failure.description.hasPrefix("recv(fd \(mine.rawValue)) failed: ECONNRESET"), true, failure.description)
    }
}
