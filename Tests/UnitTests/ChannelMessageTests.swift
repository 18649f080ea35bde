import Channel
import Posix
import XCTest

/// The master↔worker wire format, and a real seqpacket socketpair carrying it.
final class ChannelMessageTests: XCTestCase {
    let stats = WorkerStats(requests: 1, connectionsAccepted: 0x0203, openConnections: UInt64.max,
                            residentBytes: 0x0102_0304_0506_0708, maxLoopLagMicroseconds: 0)

    var everyCase: [ChannelMessage] {
        [
            .ready,
            .heartbeat(stats),
            .heartbeat(WorkerStats()),
            .quit(deadline: Instant(nanoseconds: 0x1122_3344_5566_7788)),
            .quit(deadline: Instant(nanoseconds: 0)),
            .quit(deadline: Instant(nanoseconds: .max)),
            .reopenLogs,
            .recycle,
            .rotation(inRotation: true),
            .rotation(inRotation: false),
        ]
    }

    // MARK: Encoding

    func testEveryCaseRoundTrips() {
        for message in everyCase {
            let bytes = message.encoded()
            XCTAssertLessThanOrEqual(bytes.count, ChannelMessage.maximumSize)
            XCTAssertEqual(ChannelMessage(decoding: bytes), message)
            XCTAssertEqual(ChannelMessage(decoding: bytes[...]), message, "any collection of bytes decodes")
        }
    }

    func testWireForm() {
        XCTAssertEqual(ChannelMessage.ready.encoded(), [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(ChannelMessage.reopenLogs.encoded(), [4, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(ChannelMessage.rotation(inRotation: false).encoded(), [6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(ChannelMessage.rotation(inRotation: true).encoded(), [6, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(ChannelMessage.quit(deadline: Instant(nanoseconds: 0x0102_0304_0506_0708)).encoded(),
                       [3, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1], "a tag, seven zero bytes, little-endian fields")
        let heartbeat = ChannelMessage.heartbeat(stats).encoded()
        XCTAssertEqual(heartbeat.count, 8 + 56 * 8)
        XCTAssertEqual(heartbeat[0], 2)
        XCTAssertEqual(Array(heartbeat[8..<16]), [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(heartbeat[16..<24]), [3, 2, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(heartbeat[24..<32]), Array(repeating: 0xFF, count: 8))
    }

    func testMalformedPacketsDecodeToNil() {
        let ready = ChannelMessage.ready.encoded()
        let quit = ChannelMessage.quit(deadline: Instant(nanoseconds: 5)).encoded()
        let heartbeat = ChannelMessage.heartbeat(stats).encoded()
        var malformed: [(String, [UInt8])] = [
            ("empty", []),
            ("one byte", [1]),
            ("short header", Array(ready.dropLast())),
            ("tag 0", [0, 0, 0, 0, 0, 0, 0, 0]),
            ("tag 7", [7, 0, 0, 0, 0, 0, 0, 0]),
            ("rotation without its field", [6, 0, 0, 0, 0, 0, 0, 0]),
            ("rotation neither in nor out", [6, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]),
            ("recycle with a field", [5, 0, 0, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 8)),
            ("tag 255", [255, 0, 0, 0, 0, 0, 0, 0]),
            ("ready with a field", ready + Array(repeating: 0, count: 8)),
            ("ready with one extra byte", ready + [0]),
            ("quit without its field", Array(quit.prefix(8))),
            ("quit short by one", Array(quit.dropLast())),
            ("quit long by one", quit + [0]),
            ("quit with two fields", quit + Array(repeating: 0, count: 8)),
            ("heartbeat missing a field", Array(heartbeat.dropLast(8))),
            ("heartbeat long by one", heartbeat + [0]),
            ("heartbeat with no fields", Array(heartbeat.prefix(8))),
        ]
        for index in 1..<8 {
            var bytes = ready
            bytes[index] = 1
            malformed.append(("padding byte \(index) of ready", bytes))
            var long = heartbeat
            long[index] = 0x80
            malformed.append(("padding byte \(index) of heartbeat", long))
        }
        for (name, bytes) in malformed {
            XCTAssertNil(ChannelMessage(decoding: bytes), name)
        }
    }

    // MARK: A real channel

    func testMessagesCrossASeqpacketPairBothWays() throws {
        let (master, worker) = try Socket.seqpacketPair()
        defer { master.close(); worker.close() }

        XCTAssertEqual(try ChannelIO.receive(on: master), .empty)
        XCTAssertEqual(try ChannelIO.receive(on: worker), .empty)

        XCTAssertTrue(try ChannelIO.send(.ready, on: worker))
        XCTAssertTrue(try ChannelIO.send(.heartbeat(stats), on: worker))
        XCTAssertTrue(try ChannelIO.send(.quit(deadline: Instant(nanoseconds: 77)), on: master))
        XCTAssertTrue(try ChannelIO.send(.reopenLogs, on: master))

        // One message per packet, in order: nothing is merged or torn.
        XCTAssertEqual(try ChannelIO.receive(on: master), .message(.ready))
        XCTAssertEqual(try ChannelIO.receive(on: master), .message(.heartbeat(stats)))
        XCTAssertEqual(try ChannelIO.receive(on: master), .empty)
        XCTAssertEqual(try ChannelIO.receive(on: worker), .message(.quit(deadline: Instant(nanoseconds: 77))))
        XCTAssertEqual(try ChannelIO.receive(on: worker), .message(.reopenLogs))
        XCTAssertEqual(try ChannelIO.receive(on: worker), .empty)
    }

    func testAPacketThatDoesNotDecodeIsReportedMalformedAndTheNextOneStillArrives() throws {
        let (master, worker) = try Socket.seqpacketPair()
        defer { master.close(); worker.close() }
        let garbage: [UInt8] = [9, 0, 0, 0, 0, 0, 0, 0]
        let sent = try garbage.withUnsafeBytes { raw throws(SystemError) in try Socket.send(worker, raw) }
        XCTAssertEqual(sent, garbage.count)
        // Longer than any message: truncated to maximumSize by the receiver, and still not a message.
        let oversized = ChannelMessage.heartbeat(stats).encoded() + Array(repeating: 0, count: 64)
        _ = try oversized.withUnsafeBytes { raw throws(SystemError) in try Socket.send(worker, raw) }
        try ChannelIO.send(.ready, on: worker)

        XCTAssertEqual(try ChannelIO.receive(on: master), .malformed)
        XCTAssertEqual(try ChannelIO.receive(on: master), .malformed)
        XCTAssertEqual(try ChannelIO.receive(on: master), .message(.ready))
    }

    func testReceiveReportsClosedOnceThePeerIsGone() throws {
        let (master, worker) = try Socket.seqpacketPair()
        defer { master.close() }
        try ChannelIO.send(.ready, on: worker)
        worker.close()
        // Pending messages are still delivered, then EOF.
        XCTAssertEqual(try ChannelIO.receive(on: master), .message(.ready))
        XCTAssertEqual(try ChannelIO.receive(on: master), .closed)
        XCTAssertEqual(try ChannelIO.receive(on: master), .closed)
        XCTAssertThrowsError(try ChannelIO.send(.reopenLogs, on: master), "sending to a closed peer throws (EPIPE, never SIGPIPE)")
    }

    func testSendReportsAFullChannelInsteadOfBlocking() throws {
        let (master, worker) = try Socket.seqpacketPair()
        defer { master.close(); worker.close() }
        var sent = 0
        while try ChannelIO.send(.quit(deadline: Instant(nanoseconds: UInt64(sent))), on: master) {
            sent += 1
            if sent > 1_000_000 { return XCTFail("the channel never filled") }
        }
        XCTAssertGreaterThan(sent, 0)
        var received = 0
        while case let .message(message) = try ChannelIO.receive(on: worker) {
            XCTAssertEqual(message, .quit(deadline: Instant(nanoseconds: UInt64(received))))
            received += 1
        }
        XCTAssertEqual(received, sent, "every message accepted was delivered, in order")
        XCTAssertTrue(try ChannelIO.send(.ready, on: master), "there is room again once drained")
    }
}
