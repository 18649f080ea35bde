import Glibc
import Posix
import XCTest

/// The reactor's epoll: an event carries its registration's data and flags; a wait without
/// events ends at its timeout; failures name the call and the descriptor.
final class EpollTests: XCTestCase {
    func testEventCarriesTheRegistrationsDataAndFlags() throws {
        let epoll = try Epoll(capacity: 8)
        let (reader, writer) = try FileDescriptor.pipe(flags: O_NONBLOCK)
        defer {
            reader.close()
            writer.close()
        }
        try epoll.add(reader, interest: [.input, .edgeTriggered], data: 0xABCD_0000_0042)
        XCTAssertEqual(try epoll.wait(nanoseconds: 0), 0, "nothing written yet")
        try writer.writeAll("x")
        XCTAssertEqual(try epoll.wait(nanoseconds: 10_000_000_000), 1)
        let event = epoll.event(at: 0)
        XCTAssertEqual(event.data, 0xABCD_0000_0042)
        XCTAssertTrue(event.events.contains(.input))
        XCTAssertFalse(event.events.contains(.output))
        XCTAssertEqual(try epoll.wait(nanoseconds: 0), 0, "edge-triggered: one event per edge")
        writer.close()
        XCTAssertEqual(try epoll.wait(nanoseconds: 10_000_000_000), 1)
        XCTAssertTrue(epoll.event(at: 0).events.contains(.hangUp), "the writer's close is a hang-up")
    }

    func testWaitWithoutEventsEndsAtItsTimeout() throws {
        let epoll = try Epoll(capacity: 1)
        let start = Instant.now
        XCTAssertEqual(try epoll.wait(nanoseconds: 20_000_000), 0)
        XCTAssertGreaterThanOrEqual(Instant.now.since(start), .milliseconds(19))
    }

    func testRemovedDescriptorReportsNothing() throws {
        let epoll = try Epoll(capacity: 1)
        let (reader, writer) = try FileDescriptor.pipe(flags: O_NONBLOCK)
        defer {
            reader.close()
            writer.close()
        }
        try epoll.add(reader, interest: .input, data: 1)
        try epoll.remove(reader)
        try writer.writeAll("x")
        XCTAssertEqual(try epoll.wait(nanoseconds: 0), 0)
    }

    func testFailuresNameTheCallAndTheDescriptor() throws {
        let epoll = try Epoll(capacity: 1)
        let (reader, writer) = try FileDescriptor.pipe()
        reader.close()
        writer.close()
        XCTAssertThrowsError(try epoll.add(reader, interest: .input, data: 0)) { error in
            XCTAssertEqual((error as? SystemError)?.syscall, "epoll_ctl")
            XCTAssertEqual((error as? SystemError)?.errno, .badFileDescriptor)
            XCTAssertEqual("\(error)".hasPrefix("epoll_ctl(ADD, fd \(reader.rawValue)) failed: EBADF"), true, "\(error)")
        }
        XCTAssertThrowsError(try epoll.remove(reader)) { error in
            XCTAssertEqual("\(error)".hasPrefix("epoll_ctl(DEL, fd \(reader.rawValue)) failed: EBADF"), true, "\(error)")
        }
    }
}
