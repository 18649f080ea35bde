import Glibc
import Posix
import XCTest

/// `Socket.refuseNewConnections`, the first step of a stop: a listener's filter drops new SYNs,
/// while what is queued is still accepted and served.
final class RefuseNewConnectionsTests: XCTestCase {
    private var open: [CInt] = []

    override func tearDown() {
        for fd in open { close(fd) }
        open = []
    }

    private func tcpSocket(nonBlocking: Bool = false) throws -> CInt {
        var type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= CInt(SOCK_NONBLOCK.rawValue) }
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw SystemError("socket", errno: Errno(rawValue: errno)) }
        open.append(fd)
        return fd
    }

    private func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func connect(_ fd: CInt, port: UInt16) -> CInt {
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    func testNewConnectionsGoUnansweredWhileTheQueuedOnesAreServed() throws {
        let listener = try tcpSocket()
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(listener, pointer, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        XCTAssertTrue(bound, "errno \(errno)")
        let port = UInt16(bigEndian: address.sin_port)

        // Queued before the stop, its request sent.
        let queued = try tcpSocket()
        XCTAssertEqual(connect(queued, port: port), 0)
        XCTAssertEqual(send(queued, "ping", 4, 0), 4)

        try Socket.refuseNewConnections(FileDescriptor(rawValue: listener))

        // A new client's SYN is dropped: its connect stays in progress. (Were the filter reading
        // the wrong offset, the flags would be missed and the connect would complete at once.)
        let fresh = try tcpSocket(nonBlocking: true)
        XCTAssertEqual(connect(fresh, port: port), -1)
        XCTAssertEqual(errno, EINPROGRESS)
        var wait = pollfd(fd: fresh, events: Int16(POLLOUT), revents: 0)
        XCTAssertEqual(poll(&wait, 1, 500), 0, "a new connection completed past the filter")

        // The queued one is accepted, its bytes read, and its answer reaches it.
        let accepted = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(accepted, 0, "errno \(errno)")
        open.append(accepted)
        var bytes = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(recv(accepted, &bytes, bytes.count, 0), 4)
        XCTAssertEqual(Array(bytes[..<4]), Array("ping".utf8))
        XCTAssertEqual(send(accepted, "pong", 4, 0), 4)
        XCTAssertEqual(recv(queued, &bytes, bytes.count, 0), 4)
        XCTAssertEqual(Array(bytes[..<4]), Array("pong".utf8))

        // Segments with ACK pass the same filter: on a connected socket, the client's bytes still
        // arrive. (So does the final ACK of a handshake under way at the stop, which a drop-
        // everything filter lost: that client then sent its request into a socket that the
        // listener's close reset.)
        try Socket.refuseNewConnections(FileDescriptor(rawValue: accepted))
        var patience = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertEqual(send(queued, "more", 4, 0), 4)
        XCTAssertEqual(recv(accepted, &bytes, bytes.count, 0), 4, "errno \(errno)")
        XCTAssertEqual(Array(bytes[..<4]), Array("more".utf8))
    }
}
