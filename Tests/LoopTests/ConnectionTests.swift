import Glibc
import Posix
import XCTest

@testable import EventLoop

/// `Connection` on the real loop, driven by the test: reads and writes, a write the kernel cannot
/// take at once, the read timeout, the peer's close and its reset.
final class ConnectionTests: XCTestCase {
    var testLoop: TestLoop!

    override func setUpWithError() throws {
        testLoop = try TestLoop.shared()
    }

    /// A connection adopting `fd`, made on the loop (a `Connection` belongs to `LoopActor`).
    func adopt(_ fd: FileDescriptor) throws -> Connection {
        try LoopActor.assumeIsolated { () throws(SystemError) in try Connection(adopting: fd) }
    }

    /// The request's bytes arrive as sent, and the reply reaches the peer.
    func testReadsWhatThePeerSentAndWritesTheReply() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        try peer.startReading()
        try peer.send("ping\n")
        let read = testLoop.spawn { () -> String in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            guard case let .bytes(count) = await connection.read(into: buffer, timeout: .seconds(5)) else { return "no bytes" }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
            let reply: StaticString = "pong\n"
            let written = await connection.write(UnsafeRawBufferPointer(start: reply.utf8Start, count: reply.utf8CodeUnitCount), timeout: .seconds(5))
            return written ? text : "write failed"
        }
        XCTAssertEqual(try testLoop.result(of: read, "the read and the write"), "ping\n")
        try testLoop.run(until: "the reply") { peer.received.count >= 5 }
        XCTAssertEqual(peer.text, "pong\n")
        LoopActor.assumeIsolated { connection.close() }
    }

    /// 4 MB in two buffers (the `writev` path), far more than a socket buffer holds: the write
    /// waits while the peer reads nothing, then completes, every byte in order, once it reads.
    func testAWriteLargerThanTheSocketBufferCompletesWhenThePeerReads() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        let first = Self.pattern(count: 1_000_000, seed: 7)
        let second = Self.pattern(count: 3_000_000, seed: 13)
        let write = testLoop.spawn { () -> Bool in
            // The caller's memory, valid across the write's suspension; `write` must not rely on
            // that (it copies what the kernel did not take), but the test must not free it early.
            let head = UnsafeMutableRawBufferPointer.allocate(byteCount: first.count, alignment: 1)
            let tail = UnsafeMutableRawBufferPointer.allocate(byteCount: second.count, alignment: 1)
            defer { head.deallocate(); tail.deallocate() }
            head.copyBytes(from: first)
            tail.copyBytes(from: second)
            return await connection.write(UnsafeRawBufferPointer(head), UnsafeRawBufferPointer(tail), timeout: .seconds(10))
        }
        try testLoop.settle()
        XCTAssertNil(testLoop.value(of: write), "the write cannot have finished: the peer has read nothing")
        XCTAssertGreaterThan(peer.unreadBytes, 0, "the kernel took what fits, at once")
        XCTAssertLessThan(peer.unreadBytes, first.count, "the socket buffer is smaller than the write (else this tests nothing)")
        try peer.startReading()
        XCTAssertEqual(try testLoop.result(of: write, "the write to complete"), true)
        try testLoop.run(until: "all 4 MB at the peer") { peer.received.count >= first.count + second.count }
        XCTAssertEqual(peer.received.count, first.count + second.count)
        XCTAssertTrue(peer.received == first + second, "both buffers arrive intact, in order")
        LoopActor.assumeIsolated { connection.close() }
    }

    /// Bytes that differ from one position to the next, so a lost or repeated piece shows.
    static func pattern(count: Int, seed: UInt8) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var value = seed
            for index in 0..<count {
                buffer[index] = value
                value = value &* 5 &+ 1
            }
            initialized = count
        }
    }

    /// A read with nothing to read ends at its timeout, not before (the loop's timers are real).
    func testAReadTimesOut() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        let connection = try adopt(fd)
        let started = Instant.now
        let read = testLoop.spawn { () -> Connection.ReadResult in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            return await connection.read(into: buffer, timeout: .milliseconds(200))
        }
        XCTAssertEqual(try testLoop.result(of: read, "the read to time out"), .timedOut)
        XCTAssertGreaterThanOrEqual(Instant.now.since(started), .milliseconds(200), "not before its timeout")
        LoopActor.assumeIsolated { connection.close() }
        peer.close()
    }

    /// The peer's last bytes and its close arrive together, reported by one edge-triggered event
    /// (with `EPOLLRDHUP`) before anyone reads: the bytes are read first, then the end of the
    /// stream, which no later event will announce and must not be lost (nginx's `pending_eof`).
    func testThePeersLastBytesAndThenItsCloseAreRead() throws {
        let (fd, peer) = try SocketPair.unix(testLoop)
        try peer.send("last words")
        peer.close()
        let connection = try adopt(fd)
        try testLoop.settle()  // the one event is dispatched now, with no read waiting
        let reads = testLoop.spawn { () -> [String] in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            var results: [String] = []
            for _ in 0..<3 {
                switch await connection.read(into: buffer, timeout: .seconds(1)) {
                case let .bytes(count): results.append(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<count]), as: UTF8.self))
                case let other:
                    results.append("\(other)")
                    return results
                }
            }
            return results
        }
        XCTAssertEqual(try testLoop.result(of: reads, "the reads"), ["last words", "closed"])
        LoopActor.assumeIsolated { connection.close() }
    }

    /// A TCP peer that resets: a waiting read ends with `.closed`, and a later write fails
    /// instead of raising SIGPIPE or waiting for its timeout.
    func testAResetEndsTheReadAndFailsTheNextWrite() throws {
        let (fd, peer) = try SocketPair.tcp(testLoop)
        let connection = try adopt(fd)
        let outcome = testLoop.spawn { () -> [String] in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            let read = await connection.read(into: buffer, timeout: .seconds(5))
            let reply: StaticString = "too late\n"
            let written = await connection.write(UnsafeRawBufferPointer(start: reply.utf8Start, count: reply.utf8CodeUnitCount), timeout: .seconds(5))
            return ["\(read)", written ? "written" : "write failed"]
        }
        try testLoop.settle()
        XCTAssertNil(testLoop.value(of: outcome), "the read waits for the peer")
        peer.reset()
        XCTAssertEqual(try testLoop.result(of: outcome, "the reset to end the read", timeout: .seconds(3)), ["closed", "write failed"])
        LoopActor.assumeIsolated { connection.close() }
    }
}
