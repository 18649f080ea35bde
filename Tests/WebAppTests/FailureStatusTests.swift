import HTTPServer
import Posix
@testable import WebApp
import XCTest

/// What a failed system call answers: the file server and uploads switch on the errno of the
/// `SystemError`, so each status is tied to the errno values that mean it.
final class FailureStatusTests: XCTestCase {
    func status(_ response: Response) -> Int { response.status.code }

    func testOpeningAFile() {
        func answer(_ errno: Errno) -> Int { status(FileServer.openFailureResponse(SystemError("openat2", errno: errno, object: "x"))) }
        XCTAssertEqual(answer(.noSuchFile), 404)
        XCTAssertEqual(answer(.notDirectory), 404, "a path through a file is not found either")
        XCTAssertEqual(answer(.crossDevice), 403, "a symlink out of the folder")
        XCTAssertEqual(answer(.symlinkLoop), 403)
        XCTAssertEqual(answer(.permissionDenied), 403)
        XCTAssertEqual(answer(.notPermitted), 403)
        XCTAssertEqual(answer(.tooManyOpenFiles), 500)
        XCTAssertEqual(answer(.notImplemented), 500, "a kernel without openat2")
        XCTAssertEqual(status(FileServer.openFailureResponse(CancellationError())), 500)
    }

    func testStoringAnUpload() {
        func answer(_ errno: Errno) -> Int { status(FileServer.failureResponse(SystemError("write", errno: errno))) }
        XCTAssertEqual(answer(.noSpace), 507)
        XCTAssertEqual(answer(.diskQuotaExceeded), 507)
        XCTAssertEqual(answer(.isDirectory), 409, "renaming over a directory")
        XCTAssertEqual(answer(.permissionDenied), 500)
        XCTAssertEqual(status(FileServer.failureResponse(CancellationError())), 500)
    }
}
