import Glibc
import Posix
import XCTest

@testable import Supervisor

/// Socket activation: the variables parsed strictly, and real descriptors checked and made ours.
/// Descriptors 3 and up are busy in a test process, so `take` is pointed at a free range up high.
final class InheritedSocketsTests: XCTestCase {
    let pid = ProcessID(4242)
    /// Descriptors a test placed at fixed numbers; closed after it.
    var placed: [CInt] = []
    var directory = ""

    override func tearDown() {
        for fd in placed { _ = close(fd) }
        placed = []
        if !directory.isEmpty {
            _ = unlink("\(directory)/admin.sock")
            _ = rmdir(directory)
        }
    }

    func environment(fds: String?, pid: String? = "4242", names: String? = nil) -> [String: String] {
        var environment: [String: String] = [:]
        environment["LISTEN_FDS"] = fds
        environment["LISTEN_PID"] = pid
        environment["LISTEN_FDNAMES"] = names
        return environment
    }

    func parse(_ environment: [String: String]) throws -> [(fd: CInt, name: String?)] {
        try InheritedSockets.parse(environment: environment, pid: pid)
    }

    /// The error parsing `environment` throws, failing the test when it parses.
    func rejection(_ environment: [String: String], file: StaticString = #filePath, line: UInt = #line) -> InheritedSocketsError? {
        do {
            let parsed = try InheritedSockets.parse(environment: environment, pid: pid)
            XCTFail("\(environment) was accepted as \(parsed)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Parsing

    func testNothingPassedWithoutListenPIDOrListenFDs() throws {
        XCTAssertTrue(try parse([:]).isEmpty)
        XCTAssertTrue(try parse(environment(fds: "2", pid: nil)).isEmpty)
        XCTAssertTrue(try parse(environment(fds: nil)).isEmpty)
        XCTAssertTrue(try parse(environment(fds: nil, names: "http")).isEmpty)
        XCTAssertTrue(try parse(environment(fds: "0")).isEmpty)
    }

    func testSocketsForAnotherProcessAreNotOurs() throws {
        XCTAssertTrue(try parse(environment(fds: "2", pid: "4243")).isEmpty)
        // Not ours, so not ours to judge either.
        XCTAssertTrue(try parse(environment(fds: "garbage", pid: "1", names: "a:b:c")).isEmpty)
    }

    func testDescriptorsStartAtThree() throws {
        let passed = try parse(environment(fds: "3"))
        XCTAssertEqual(passed.map(\.fd), [3, 4, 5])
        XCTAssertEqual(passed.map(\.name), [nil, nil, nil])
        let most = try parse(environment(fds: "1024"))
        XCTAssertEqual(most.count, 1024)
        XCTAssertEqual(most.first?.fd, 3)
        XCTAssertEqual(most.last?.fd, 1026)
    }

    func testNamesInOrder() throws {
        let passed = try parse(environment(fds: "2", names: "http:admin"))
        XCTAssertEqual(passed.map(\.fd), [3, 4])
        XCTAssertEqual(passed.map(\.name), ["http", "admin"])
        XCTAssertEqual(try parse(environment(fds: "2", names: "http:")).map(\.name), ["http", nil])
        XCTAssertEqual(try parse(environment(fds: "1", names: "")).map(\.name), [nil])
        XCTAssertEqual(try parse(environment(fds: "1", names: "supervisor.socket")).map(\.name), ["supervisor.socket"])
    }

    func testGarbageInListenFDs() throws {
        for value in ["", "abc", "-1", "+2", " 2", "2 ", "0x2", "2.0", "1025", "99999999999", "４"] {
            let error = try XCTUnwrap(rejection(environment(fds: value)))
            XCTAssertEqual(error.code, .invalidVariable)
            XCTAssertTrue(error.message.contains("LISTEN_FDS='\(value)'"), error.message)
        }
    }

    func testGarbageInListenPID() throws {
        for value in ["", "abc", "0", "-5", "+5", "4242 ", "99999999999"] {
            let error = try XCTUnwrap(rejection(environment(fds: "1", pid: value)))
            XCTAssertEqual(error.code, .invalidVariable)
            XCTAssertTrue(error.message.contains("LISTEN_PID='\(value)'"), error.message)
        }
    }

    func testNamesMustMatchTheCount() throws {
        let tooFew = try XCTUnwrap(rejection(environment(fds: "2", names: "http")))
        XCTAssertEqual(tooFew.code, .namesMismatch)
        XCTAssertEqual(tooFew.message, "LISTEN_FDNAMES='http' has 1 name but LISTEN_FDS=2 passes 2 descriptors")
        let tooMany = try XCTUnwrap(rejection(environment(fds: "1", names: "a:b:c")))
        XCTAssertEqual(tooMany.message, "LISTEN_FDNAMES='a:b:c' has 3 names but LISTEN_FDS=1 passes 1 descriptor")
    }

    // MARK: Taking real descriptors

    /// `count` consecutive closed descriptor numbers from 900 up.
    func freeRange(_ count: Int) throws -> CInt {
        var base: CInt = 900
        while base < 1000 {
            if (0..<CInt(count)).allSatisfy({ fcntl(base + $0, F_GETFD) == -1 }) { return base }
            base += 1
        }
        throw XCTSkip("no \(count) free descriptors between 900 and 1000")
    }

    /// Moves each descriptor to `base + index` (without `FD_CLOEXEC`, as an `exec` hands them over).
    func place(_ fds: [FileDescriptor], at base: CInt) {
        for (index, fd) in fds.enumerated() {
            let target = base + CInt(index)
            XCTAssertEqual(dup2(fd.rawValue, target), target, "dup2: \(Errno.current)")
            fd.close()
            placed.append(target)
        }
    }

    func take(_ count: Int, names: String? = nil, at base: CInt) throws(InheritedSocketsError) -> [InheritedSocket] {
        try InheritedSockets.take(environment: environment(fds: String(count), names: names), pid: pid, start: base)
    }

    func isNonBlocking(_ fd: CInt) -> Bool { fcntl(fd, F_GETFL) & O_NONBLOCK != 0 }

    func testTakesListeningSocketsWithTheirAddresses() throws {
        var template = Array("/tmp/inherit-test-XXXXXX".utf8CString)
        directory = String(cString: try XCTUnwrap(template.withUnsafeMutableBufferPointer { $0.baseAddress.flatMap(mkdtemp) }))
        let tcp = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 16)
        let port = try XCTUnwrap(Socket.localAddress(of: tcp).port)
        XCTAssertNotEqual(port, 0)
        let unix = try Socket.listen(on: .unix(path: "\(directory)/admin.sock"), backlog: 16)
        // As systemd passes them by default: blocking.
        try tcp.setNonBlocking(false)
        try unix.setNonBlocking(false)
        let base = try freeRange(2)
        place([tcp, unix], at: base)
        XCTAssertFalse(FileDescriptor(rawValue: base).isCloseOnExec)

        let sockets = try take(2, names: "http:admin", at: base)

        XCTAssertEqual(sockets.map(\.fd), [FileDescriptor(rawValue: base), FileDescriptor(rawValue: base + 1)])
        XCTAssertEqual(sockets.map(\.name), ["http", "admin"])
        XCTAssertEqual(sockets.map(\.address), [.ipv4(host: "127.0.0.1", port: port), .unix(path: "\(directory)/admin.sock")])
        for socket in sockets {
            XCTAssertTrue(socket.fd.isCloseOnExec, "\(socket.fd)")
            XCTAssertTrue(isNonBlocking(socket.fd.rawValue), "\(socket.fd)")
        }
    }

    func testWithoutNamesTheNameIsNil() throws {
        let tcp = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 16)
        let base = try freeRange(1)
        place([tcp], at: base)
        let sockets = try take(1, at: base)
        XCTAssertEqual(sockets.count, 1)
        XCTAssertNil(sockets.first?.name)
        XCTAssertEqual(sockets.first?.address?.host, "127.0.0.1")
    }

    /// The error `take` throws, and that the good descriptor before the bad one was left untouched.
    func refusal(of bad: FileDescriptor, file: StaticString = #filePath, line: UInt = #line) throws -> InheritedSocketsError {
        let good = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 16)
        let base = try freeRange(2)
        place([good, bad], at: base)
        do {
            let sockets = try take(2, at: base)
            XCTFail("took \(sockets.count) sockets", file: file, line: line)
            throw XCTSkip("no error to look at")
        } catch let error as InheritedSocketsError {
            XCTAssertEqual(error.code, .notListening, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix("fd \(base + 1) (LISTEN_FDS=2) is not a listening socket: "), error.message, file: file, line: line)
            XCTAssertFalse(FileDescriptor(rawValue: base).isCloseOnExec, "changed before every descriptor was checked", file: file, line: line)
            return error
        }
    }

    func testAPipeIsRefused() throws {
        let (read, write) = try FileDescriptor.pipe()
        defer { write.close() }
        let error = try refusal(of: read)
        XCTAssertTrue(error.message.hasSuffix("it is not a socket"), error.message)
    }

    func testAConnectedSocketIsRefused() throws {
        let (one, other) = try Socket.seqpacketPair()
        defer { other.close() }
        let error = try refusal(of: one)
        XCTAssertTrue(error.message.hasSuffix("the socket does not listen (SO_ACCEPTCONN=0)"), error.message)
    }

    func testAClosedDescriptorIsRefused() throws {
        let good = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 16)
        let base = try freeRange(2)
        place([good], at: base)
        XCTAssertThrowsError(try take(2, at: base)) { error in
            let error = error as? InheritedSocketsError
            XCTAssertEqual(error?.message, "fd \(base + 1) (LISTEN_FDS=2) is not a listening socket: it is not open")
        }
    }

    func testSocketsForAnotherProcessAreLeftAlone() throws {
        let (read, write) = try FileDescriptor.pipe()
        defer { write.close() }
        let base = try freeRange(1)
        place([read], at: base)
        let sockets = try InheritedSockets.take(environment: environment(fds: "1", pid: "4243"), pid: pid, start: base)
        XCTAssertTrue(sockets.isEmpty)
    }

    // MARK: The process environment

    func testUnsetEnvironmentRemovesTheThreeVariables() {
        let saved = InheritedSockets.processEnvironment
        defer {
            for (name, value) in saved { setenv(name, value, 1) }
        }
        setenv("LISTEN_PID", "1", 1)
        setenv("LISTEN_FDS", "2", 1)
        setenv("LISTEN_FDNAMES", "a:b", 1)
        XCTAssertEqual(InheritedSockets.processEnvironment, ["LISTEN_PID": "1", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a:b"])
        InheritedSockets.unsetEnvironment()
        XCTAssertEqual(InheritedSockets.processEnvironment, [:])
        XCTAssertNil(getenv("LISTEN_PID"))
        XCTAssertNil(getenv("LISTEN_FDS"))
        XCTAssertNil(getenv("LISTEN_FDNAMES"))
    }
}
