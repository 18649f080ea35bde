import Glibc
import HTTPServer
import Posix
import XCTest

/// A file body owns its descriptor: it closes once, when the last response holding it is gone,
/// whether or not any of them was sent.
final class OpenFileTests: XCTestCase {
    func isOpen(_ fd: CInt) -> Bool { fcntl(fd, F_GETFD) != -1 }

    func testTheDescriptorClosesWhenTheLastResponseHoldingItIsGone() throws {
        var file: OpenFile? = try OpenFile(path: "/dev/null")
        let fd = try XCTUnwrap(file?.fd.rawValue)
        var responses: [Response] = []
        for length in 1...3 {
            responses.append(Response(body: .file(try XCTUnwrap(file), length: length)))
        }
        file = nil
        XCTAssertTrue(isOpen(fd), "responses still hold it")
        responses.removeLast(2)
        XCTAssertTrue(isOpen(fd))
        responses.removeAll()  // never sent: dropped
        XCTAssertFalse(isOpen(fd))
        XCTAssertEqual(errno, EBADF)
    }

    func testItClosesOnlyOnce() throws {
        var file: OpenFile? = try OpenFile(path: "/dev/null")
        let fd = try XCTUnwrap(file?.fd.rawValue)
        var response: Response? = Response(body: .file(try XCTUnwrap(file), offset: 0, length: 0))
        file = nil
        response = nil
        XCTAssertNil(response)
        XCTAssertFalse(isOpen(fd))
        // The number is free again and the next open takes it; nothing closes it behind our back.
        let reused = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(reused) }
        XCTAssertEqual(reused, fd)
        XCTAssertTrue(isOpen(reused))
    }

    func testTakingADescriptorAndItsSize() throws {
        let path = NSTemporaryDirectory() + "open-file-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { unlink(path) }
        XCTAssertEqual(write(fd, "twelve bytes", 12), 12)
        var file: OpenFile? = OpenFile(taking: FileDescriptor(rawValue: fd))
        XCTAssertEqual(try file?.size(), 12)
        file = nil
        XCTAssertFalse(isOpen(fd))
    }

    func testOpeningAMissingFileNamesTheCallThePathAndTheErrno() {
        XCTAssertThrowsError(try OpenFile(path: "/nonexistent/file")) { error in
            XCTAssertTrue("\(error)".contains("open(/nonexistent/file) failed: ENOENT"), "\(error)")
        }
    }
}
