import Glibc
import Posix
import XCTest

/// The hot path's funnel (`IOResult`): each outcome of a non-blocking call is a value that says
/// what happened, `EAGAIN` is not an error, and a failure carries its errno.
final class IOFunnelTests: XCTestCase {
    /// A non-blocking pipe, closed after `body`.
    private func withPipe(_ body: (FileDescriptor, FileDescriptor) throws -> Void) throws {
        try withPair(FileDescriptor.pipe(flags: O_NONBLOCK), body)
    }

    /// A connected, non-blocking `AF_UNIX` stream pair, closed after `body` (what remains open).
    private func withSocketPair(_ body: (FileDescriptor, FileDescriptor) throws -> Void) throws {
        try withPair(Socket.nonBlockingStreamPair(), body)
    }

    private func withPair(_ pair: (FileDescriptor, FileDescriptor), _ body: (FileDescriptor, FileDescriptor) throws -> Void) throws {
        let (first, second) = pair
        defer {
            first.close()
            second.close()
        }
        try body(first, second)
    }

    /// One call of `call` (`readSome` or `receiveSome`) into a fresh buffer: its result and the bytes it gave.
    private func take(upTo count: Int, _ call: (UnsafeMutableRawBufferPointer) -> IOResult) -> (IOResult, [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { call($0) }
        if case let .processed(n) = result { return (result, Array(bytes.prefix(n))) }
        return (result, [])
    }

    private func read(_ fd: FileDescriptor, upTo count: Int) -> (IOResult, [UInt8]) { take(upTo: count, fd.readSome(into:)) }

    private func receive(_ fd: FileDescriptor, upTo count: Int) -> (IOResult, [UInt8]) { take(upTo: count, fd.receiveSome(into:)) }

    func testReadOfAnEmptyPipeWouldBlockThenDataThenEndOfStream() throws {
        let (reader, writer) = try FileDescriptor.pipe(flags: O_NONBLOCK)
        defer { reader.close() }
        XCTAssertEqual(read(reader, upTo: 16).0, .wouldBlock)
        let written = Array("ping".utf8).withUnsafeBytes { writer.writeSome($0) }
        XCTAssertEqual(written, .processed(4))
        let (result, bytes) = read(reader, upTo: 16)
        XCTAssertEqual(result, .processed(4))
        XCTAssertEqual(bytes, Array("ping".utf8))
        writer.close()
        XCTAssertEqual(read(reader, upTo: 16).0, .endOfStream, "a closed writer is the end, not an error")
    }

    func testGatheredWriteSendsBothPiecesInOrder() throws {
        try withPipe { reader, writer in
            let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8), body = Array("hello".utf8)
            let result = head.withUnsafeBytes { first in body.withUnsafeBytes { second in writer.writeSome(first, second) } }
            XCTAssertEqual(result, .processed(head.count + body.count))
            XCTAssertEqual(read(reader, upTo: 64).1, head + body)
        }
    }

    /// A full pipe takes part of a write, then nothing: `.wouldBlock`, never a short count of 0.
    func testFullPipeTakesWhatFitsThenWouldBlock() throws {
        try withPipe { _, writer in
            let chunk = [UInt8](repeating: 7, count: 1 << 20)  // more than a pipe holds (64 KiB default)
            let first = chunk.withUnsafeBytes { writer.writeSome($0) }
            guard case let .processed(taken) = first else { return XCTFail("expected part of the write, got \(first)") }
            XCTAssertLessThan(taken, chunk.count)
            XCTAssertEqual(chunk.withUnsafeBytes { writer.writeSome($0) }, .wouldBlock)
        }
    }

    func testFailureCarriesTheErrno() throws {
        let (reader, writer) = try FileDescriptor.pipe()
        reader.close()
        writer.close()
        XCTAssertEqual(read(reader, upTo: 1).0, .failed(.badFileDescriptor))
        XCTAssertEqual(Array("x".utf8).withUnsafeBytes { writer.writeSome($0) }, .failed(.badFileDescriptor))
    }

    /// The socket calls a connection makes (`recv`, `send`, `sendmsg`) give the outcomes the file
    /// calls give: nothing yet, bytes in order, the peer's close as the end.
    func testSocketCallsSendBothPiecesInOrderAndSeeTheEnd() throws {
        try withSocketPair { mine, peer in
            XCTAssertEqual(receive(mine, upTo: 16).0, .wouldBlock)
            let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8), body = Array("hello".utf8)
            let result = head.withUnsafeBytes { first in body.withUnsafeBytes { second in peer.sendSome(first, second) } }
            XCTAssertEqual(result, .processed(head.count + body.count))
            XCTAssertEqual(Array("!".utf8).withUnsafeBytes { peer.sendSome($0) }, .processed(1))
            XCTAssertEqual(receive(mine, upTo: 64).1, head + body + Array("!".utf8))
            _ = shutdown(peer.rawValue, CInt(SHUT_WR))
            XCTAssertEqual(receive(mine, upTo: 16).0, .endOfStream)
        }
    }

    /// A send to a peer that is gone fails with `EPIPE` and raises no `SIGPIPE`: the test runs
    /// with the signal's default action, which would end this process.
    func testSendToAClosedPeerIsEPIPEWithoutSignal() throws {
        let previous = signal(SIGPIPE, SIG_DFL)
        defer { signal(SIGPIPE, previous) }
        try withSocketPair { mine, peer in
            _ = shutdown(peer.rawValue, CInt(SHUT_RDWR))
            XCTAssertEqual(Array("x".utf8).withUnsafeBytes { mine.sendSome($0) }, .failed(.brokenPipe))
            let pair = Array("ab".utf8)
            XCTAssertEqual(pair.withUnsafeBytes { both in mine.sendSome(both, both) }, .failed(.brokenPipe))
        }
    }

    /// `sendfile` from a file: the offset moves by what was sent, and past the end is the end.
    func testSendFileAdvancesTheOffsetAndEndsAtTheFileEnd() throws {
        let path = TemporaryPath.make("sendfile")
        defer { _ = unlink(path) }
        let file = FileDescriptor(rawValue: open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600))
        XCTAssertGreaterThanOrEqual(file.rawValue, 0)
        defer { file.close() }
        try file.writeAll("0123456789")
        try withPipe { reader, writer in
            var offset = 4
            XCTAssertEqual(writer.sendFileSome(from: file, offset: &offset, count: 3), .processed(3))
            XCTAssertEqual(offset, 7)
            XCTAssertEqual(read(reader, upTo: 16).1, Array("456".utf8))
            offset = 10
            XCTAssertEqual(writer.sendFileSome(from: file, offset: &offset, count: 3), .endOfStream)
        }
    }

    func testEventCounterIsReadableOnlyAfterAnIncrement() throws {
        let counter = try EventCounter()
        defer { counter.fd.close() }
        XCTAssertEqual(counter.reset(), .wouldBlock, "zero: nothing to read")
        XCTAssertEqual(counter.increment(), .processed(8))
        XCTAssertEqual(counter.increment(), .processed(8))
        XCTAssertEqual(try Poll.waitReadable([counter.fd], timeout: .zero), [counter.fd])
        XCTAssertEqual(counter.reset(), .processed(8))
        XCTAssertEqual(counter.reset(), .wouldBlock, "a reset empties it")
    }
}

/// A path in the temp directory no other test uses.
enum TemporaryPath {
    static func make(_ name: String) -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        return "\(base)/supervisor-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
