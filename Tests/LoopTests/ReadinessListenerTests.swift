import Posix
import XCTest

@testable import EventLoop

/// `Connection.whenReadable`: a wait for input with no task, told through a listener once bytes
/// (or the peer's close) arrive, the timeout passes, or the connection is closed; answered at
/// once when there is no need to wait.
final class ReadinessListenerTests: XCTestCase {
    var testLoop: TestLoop!

    override func setUpWithError() throws {
        testLoop = try TestLoop.shared()
    }

    /// Records what it is told, on the loop.
    final class Recorder: ReadinessListener, @unchecked Sendable {
        var told: [IOWakeup] = []
        func readinessChanged(_ wakeup: IOWakeup) { told.append(wakeup) }
    }

    func adopt(_ fd: FileDescriptor) throws -> Connection {
        try LoopActor.assumeIsolated { () throws(SystemError) in try Connection(adopting: fd) }
    }

    /// Drains the socket so that the next `whenReadable` has to wait.
    func drain(_ connection: Connection) {
        LoopActor.assumeIsolated {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            while connection.readIfAvailable(into: buffer) != nil {}
        }
    }

    /// Bytes that arrive while it waits are told once, as `.ready`; a read then finds them.
    func testBytesAreToldOnceAndThenRead() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        let recorder = Recorder()
        drain(connection)
        XCTAssertNil(LoopActor.assumeIsolated { connection.whenReadable(timeout: .seconds(10), tell: recorder) }, "nothing there: it waits")
        try testLoop.settle()
        XCTAssertEqual(recorder.told, [], "told nothing before any byte")
        try peer.send("next")
        try testLoop.run(until: "the listener to be told") { !recorder.told.isEmpty }
        try peer.send("more")
        try testLoop.settle()
        XCTAssertEqual(recorder.told, [.ready], "told once: the listener is dropped when told")
        let read = LoopActor.assumeIsolated { () -> Connection.ReadResult? in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            return connection.readIfAvailable(into: buffer)
        }
        XCTAssertEqual(read, .bytes(8))
        LoopActor.assumeIsolated { connection.close() }
    }

    /// With bytes not read yet, or a closed connection, the answer comes at once and the
    /// listener is never told.
    func testNoWaitWhenThereIsInputOrTheConnectionIsClosed() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        let recorder = Recorder()
        try peer.send("waiting")
        try testLoop.settle()
        XCTAssertEqual(LoopActor.assumeIsolated { connection.whenReadable(timeout: .seconds(10), tell: recorder) }, .ready)
        LoopActor.assumeIsolated { connection.close() }
        XCTAssertEqual(LoopActor.assumeIsolated { connection.whenReadable(timeout: .seconds(10), tell: recorder) }, .cancelled)
        try testLoop.settle()
        XCTAssertEqual(recorder.told, [])
    }

    /// The timeout and the close are told too (`.timedOut`, `.cancelled`).
    func testTheTimeoutAndTheCloseAreTold() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        let recorder = Recorder()
        drain(connection)
        XCTAssertNil(LoopActor.assumeIsolated { connection.whenReadable(timeout: .milliseconds(100), tell: recorder) })
        try testLoop.run(until: "the timeout to be told") { !recorder.told.isEmpty }
        XCTAssertEqual(recorder.told, [.timedOut])
        XCTAssertNil(LoopActor.assumeIsolated { connection.whenReadable(timeout: .seconds(10), tell: recorder) })
        LoopActor.assumeIsolated { connection.close() }
        XCTAssertEqual(recorder.told, [.timedOut, .cancelled], "closing tells a waiting listener at once")
        withExtendedLifetime(peer) {}  // its end stays open: no EOF is what was waited for
    }
}
