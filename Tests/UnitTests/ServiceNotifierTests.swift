import Glibc
import Posix
import XCTest

@testable import Supervisor

/// `sd_notify` by hand, against real unix datagram sockets standing in for systemd: the exact bytes
/// of each datagram, both address forms, and a send that fails instead of blocking.
final class ServiceNotifierTests: XCTestCase {
    var directory = ""
    var receivers: [FileDescriptor] = []

    override func setUpWithError() throws {
        var template = Array("/tmp/notify-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { $0.baseAddress.flatMap(mkdtemp) }
        directory = String(cString: try XCTUnwrap(made, "mkdtemp failed: \(Errno.current)"))
    }

    override func tearDown() {
        for fd in receivers { fd.close() }
        receivers = []
        _ = unlink("\(directory)/notify")
        _ = rmdir(directory)
    }

    /// A datagram socket bound to `sunPath` (NUL first for the abstract namespace), as systemd binds its own.
    func receiver(sunPath: [UInt8]) throws -> FileDescriptor {
        let raw = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        XCTAssertGreaterThanOrEqual(raw, 0, "socket: \(Errno.current)")
        let fd = FileDescriptor(rawValue: raw)
        receivers.append(fd)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in sunPath.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + sunPath.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(raw, $0, length) }
        }
        XCTAssertEqual(result, 0, "bind: \(Errno.current)")
        return fd
    }

    /// A receiver at a path in the test's directory, and the environment that points at it.
    func pathReceiver() throws -> (FileDescriptor, [String: String]) {
        let path = "\(directory)/notify"
        return (try receiver(sunPath: Array(path.utf8) + [0]), ["NOTIFY_SOCKET": path])
    }

    /// The next datagram, as text; fails when none is queued.
    func receive(_ fd: FileDescriptor, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = try buffer.withUnsafeMutableBytes { try Socket.receive(fd, into: $0) }
        let received = try XCTUnwrap(count, "no datagram was queued", file: file, line: line)
        return String(decoding: buffer[..<received], as: UTF8.self)
    }

    func assertNothingQueued(_ fd: FileDescriptor, file: StaticString = #filePath, line: UInt = #line) throws {
        var buffer = [UInt8](repeating: 0, count: 64)
        XCTAssertNil(try buffer.withUnsafeMutableBytes { try Socket.receive(fd, into: $0) }, file: file, line: line)
    }

    // MARK: The environment

    func testNoNotifierWithoutAUsableSocket() {
        XCTAssertNil(ServiceNotifier(environment: [:]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": ""]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": "run/systemd/notify"]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": "./notify"]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": "@"]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": " /run/systemd/notify"]))
        XCTAssertNil(ServiceNotifier(environment: ["OTHER": "/run/systemd/notify"]))
    }

    func testAbsolutePathsAndAbstractNames() {
        XCTAssertEqual(ServiceNotifier(environment: ["NOTIFY_SOCKET": "/run/systemd/notify"])?.notifySocket, "/run/systemd/notify")
        XCTAssertEqual(ServiceNotifier(environment: ["NOTIFY_SOCKET": "@name"])?.notifySocket, "@name")
    }

    func testPathsMustFitSunPath() {
        // sun_path is 108 bytes: a path needs its NUL, an abstract name (after its leading NUL) does not.
        let longestPath = "/" + String(repeating: "a", count: 106)
        XCTAssertNotNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": longestPath]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": longestPath + "a"]))
        let longestName = "@" + String(repeating: "a", count: 107)
        XCTAssertNotNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": longestName]))
        XCTAssertNil(ServiceNotifier(environment: ["NOTIFY_SOCKET": longestName + "a"]))
    }

    func testFromProcessEnvironmentReadsNotifySocket() throws {
        let saved = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        defer {
            if let saved { setenv("NOTIFY_SOCKET", saved, 1) } else { unsetenv("NOTIFY_SOCKET") }
        }
        unsetenv("NOTIFY_SOCKET")
        XCTAssertNil(ServiceNotifier.fromProcessEnvironment())
        setenv("NOTIFY_SOCKET", "@from-getenv", 1)
        XCTAssertEqual(ServiceNotifier.fromProcessEnvironment()?.notifySocket, "@from-getenv")
        setenv("NOTIFY_SOCKET", "relative", 1)
        XCTAssertNil(ServiceNotifier.fromProcessEnvironment())
    }

    // MARK: Datagrams

    func testSendsOneDatagramToAPath() throws {
        let (receiver, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        try notifier.send([("READY", "1"), ("STATUS", "serving with 4 workers")])
        XCTAssertEqual(try receive(receiver), "READY=1\nSTATUS=serving with 4 workers\n")
        try assertNothingQueued(receiver)
    }

    func testSendsToAnAbstractSocket() throws {
        let name = "supervisor-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // Bound with exactly the name's bytes: a notifier that counted a trailing NUL would miss it.
        let receiver = try receiver(sunPath: [0] + Array(name.utf8))
        let notifier = try XCTUnwrap(ServiceNotifier(environment: ["NOTIFY_SOCKET": "@\(name)"]))
        try notifier.status("abstract")
        XCTAssertEqual(try receive(receiver), "STATUS=abstract\n")
    }

    func testConveniences() throws {
        let (receiver, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        try notifier.ready()
        XCTAssertEqual(try receive(receiver), "READY=1\n")
        try notifier.ready(status: "up")
        XCTAssertEqual(try receive(receiver), "READY=1\nSTATUS=up\n")
        try notifier.ready(status: "upgraded", mainPID: 4242)
        XCTAssertEqual(try receive(receiver), "MAINPID=4242\nREADY=1\nSTATUS=upgraded\n")
        try notifier.stopping()
        XCTAssertEqual(try receive(receiver), "STOPPING=1\n")
        try notifier.status("draining 3 connections")
        XCTAssertEqual(try receive(receiver), "STATUS=draining 3 connections\n")
        try notifier.mainPID(1234)
        XCTAssertEqual(try receive(receiver), "MAINPID=1234\n")
        try assertNothingQueued(receiver)
    }

    func testReloadingCarriesTheMonotonicClockInMicroseconds() throws {
        let (receiver, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        let before = Instant.now.nanoseconds / 1000
        try notifier.reloading(status: "reloading")
        let after = Instant.now.nanoseconds / 1000
        let lines = try receive(receiver).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 4, "three lines, each ending in a newline: \(lines)")
        XCTAssertEqual(lines[0], "RELOADING=1")
        XCTAssertTrue(lines[1].hasPrefix("MONOTONIC_USEC="), "\(lines[1])")
        let stamp = try XCTUnwrap(UInt64(lines[1].dropFirst("MONOTONIC_USEC=".count)))
        XCTAssertTrue((before...after).contains(stamp), "\(stamp) not in \(before)...\(after)")
        XCTAssertEqual(lines[2], "STATUS=reloading")
        XCTAssertEqual(lines[3], "")
        try notifier.reloading()
        XCTAssertTrue(try receive(receiver).hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
    }

    func testLineBreaksAndNULBecomeSpaces() throws {
        let (receiver, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        try notifier.status("one\ntwo\r\nthree\u{0}four")
        XCTAssertEqual(try receive(receiver), "STATUS=one two  three four\n")
        try notifier.send([("BAD\nKEY", "v"), ("STATUS", "héllo→✓")])
        XCTAssertEqual(try receive(receiver), "BAD KEY=v\nSTATUS=héllo→✓\n")
    }

    func testNoAssignmentsSendNothing() throws {
        let (receiver, environment) = try pathReceiver()
        try XCTUnwrap(ServiceNotifier(environment: environment)).send([])
        try assertNothingQueued(receiver)
    }

    // MARK: Failures

    func testAMissingSocketFailsNamingTheCallAndTheSocket() throws {
        let path = "\(directory)/nobody-listens"
        let notifier = try XCTUnwrap(ServiceNotifier(environment: ["NOTIFY_SOCKET": path]))
        do {
            try notifier.ready()
            XCTFail("sent to a socket nobody bound")
        } catch {
            XCTAssertEqual(error.syscall, "sendto")
            XCTAssertEqual(error.errno, .noSuchFile)
            XCTAssertTrue(error.description.contains("NOTIFY_SOCKET=\(path)"), error.description)
        }
    }

    func testAFullQueueFailsInsteadOfBlocking() throws {
        // Nobody reads: the receiver's queue fills, and a send must then fail with EAGAIN, not wait.
        let (_, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        for _ in 0..<100_000 {
            do {
                try notifier.status("filling")
            } catch {
                XCTAssertEqual(error.errno, .wouldBlock, error.description)
                return
            }
        }
        XCTFail("100000 datagrams queued without EAGAIN")
    }

    func testEachSendClosesItsSocket() throws {
        let (receiver, environment) = try pathReceiver()
        let notifier = try XCTUnwrap(ServiceNotifier(environment: environment))
        let before = FileDescriptor.openDescriptors().count
        for _ in 0..<20 {
            try notifier.status("x")
            _ = try receive(receiver)
        }
        XCTAssertEqual(FileDescriptor.openDescriptors().count, before)
    }
}
