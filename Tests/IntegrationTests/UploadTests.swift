import Foundation
import Glibc
import XCTest

/// `PUT /files/{name}` against the real binary: stored atomically, nothing left by failures, and
/// one limit on uploads in progress across all workers.
final class UploadTests: XCTestCase {
    var server: ServerProcess?
    var root = ""
    var port: UInt16 = 0

    func start(_ extra: [String] = []) throws {
        root = ServerProcess.temporaryDirectory()
        let server = try ServerProcess(["start", "--app", "http", "--root", root, "--workers", "2", "--bind", "127.0.0.1:0",
                                        "--health-interval", "0"] + extra)
        self.server = server
        port = server.port()
        server.waitForReady(2)
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    func request(_ raw: [UInt8]) throws -> String {
        String(decoding: try HTTPTestClient.exchange(port: port, raw, timeout: 30), as: UTF8.self)
    }

    func put(_ name: String, _ body: [UInt8], headers: String = "") throws -> String {
        try request(Array("PUT /files/\(name) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\(headers)Connection: close\r\n\r\n".utf8) + body)
    }

    var folder: [String] { (try? FileManager.default.contentsOfDirectory(atPath: root).sorted()) ?? [] }

    func testUploadThenDownloadIsIdenticalAndReplaceAnswers204() throws {
        try start()
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        XCTAssertTrue(try put("data.bin", body).hasPrefix("HTTP/1.1 201 Created"))
        let client = try EchoClient(port: port, timeout: 30)
        try client.send("GET /files/data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let reply = try client.receiveAll()
        XCTAssertTrue(Array(reply.suffix(body.count)) == body, "download differs from upload")
        XCTAssertTrue(try put("data.bin", Array("new".utf8)).hasPrefix("HTTP/1.1 204 No Content"))
        XCTAssertEqual(try String(contentsOfFile: root + "/data.bin", encoding: .utf8), "new")
        XCTAssertEqual(folder, ["data.bin"], "no temp file left")
    }

    func testChunkedUploadAndExpectContinue() throws {
        try start()
        let chunked = "PUT /files/c.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
        XCTAssertTrue(try request(Array(chunked.utf8)).hasPrefix("HTTP/1.1 201"))
        XCTAssertEqual(try String(contentsOfFile: root + "/c.txt", encoding: .utf8), "hello, world")

        let client = try EchoClient(port: port, timeout: 30)
        try client.send("PUT /files/e.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.receive(25), "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send("body")
        XCTAssertTrue(String(decoding: try client.receiveAll(), as: UTF8.self).hasPrefix("HTTP/1.1 201"))
    }

    func testAbortedAndOversizedUploadsLeaveNothing() throws {
        try start(["--max-body", "1M"])
        let client = try EchoClient(port: port, timeout: 30)
        var partial = Array("PUT /files/aborted HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".utf8) + [UInt8](repeating: 7, count: 200_000)
        try client.send(bytes: &partial)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.folder.contains { $0.hasPrefix(".upload-") } }, "the temp file exists while receiving")
        client.abort()
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.folder.isEmpty }, "left behind: \(folder)")

        XCTAssertTrue(try put("big", [UInt8](repeating: 1, count: 2_000_000)).hasPrefix("HTTP/1.1 413"))
        let chunkedTooBig = "PUT /files/big2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(repeating: "100000\r\n" + String(repeating: "z", count: 0x100000) + "\r\n", count: 2) + "0\r\n\r\n"
        XCTAssertTrue(try request(Array(chunkedTooBig.utf8)).hasPrefix("HTTP/1.1 413"))
        XCTAssertTrue(try put(".hidden", Array("x".utf8)).hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(try put("a%2Fb", Array("x".utf8)).hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.folder.isEmpty }, "left behind: \(folder)")
    }

    /// With `--max-uploads 1` and two workers, an upload in progress on either worker makes every
    /// other one answer 503 at once; when it ends, or its worker dies, the place is free again.
    func testTheUploadLimitHoldsAcrossWorkersAndADeadWorkersPlaceIsFreed() throws {
        try start(["--max-uploads", "1"])
        let holder = try EchoClient(port: port, timeout: 30)
        try holder.send("PUT /files/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhalf")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.folder.contains { $0.hasPrefix(".upload-") } })
        for attempt in 0..<10 {
            let reply = try put("other\(attempt)", Array("x".utf8))
            XCTAssertTrue(reply.hasPrefix("HTTP/1.1 503 Service Unavailable"), reply)
            XCTAssertTrue(reply.contains("\r\nRetry-After: 1\r\n"), reply)
        }
        try holder.send("-done\n")
        XCTAssertTrue(String(decoding: try holder.receiveAll(), as: UTF8.self).hasPrefix("HTTP/1.1 201"))
        XCTAssertTrue(try put("after", Array("x".utf8)).hasPrefix("HTTP/1.1 201"))

        // A worker killed mid-upload: its count is cleared, and its temp file swept by the next worker.
        let server = try XCTUnwrap(self.server)
        let stuck = try EchoClient(port: port, timeout: 30)
        try stuck.send("PUT /files/stuck HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf")
        var temp = ""
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            temp = self.folder.first { $0.hasPrefix(".upload-") } ?? ""
            return !temp.isEmpty
        })
        let owner = try XCTUnwrap(pid_t(temp.dropFirst(".upload-".count).prefix { $0 != "-" }))
        kill(owner, SIGKILL)
        server.waitForLog("msg=\"worker exited\"", "pid=\(owner) ")
        server.waitForReady(3)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { (try? self.put("again", Array("x".utf8)).hasPrefix("HTTP/1.1 201")) ?? false },
                      "the dead worker's upload still counts")
        XCTAssertFalse(folder.contains(temp), "the dead worker's temp file was swept")
        withExtendedLifetime(stuck) {}  // open until its worker died: the upload was in progress
    }

    /// The worker caches open files; its own upload must make the next download the new content.
    func testADownloadAfterAReplaceServesTheNewContent() throws {
        root = ServerProcess.temporaryDirectory()
        let server = try ServerProcess(["start", "--root", root, "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        self.server = server
        port = server.port()
        server.waitForReady(1)
        func download() throws -> String {
            let client = try EchoClient(port: port)
            try client.send("GET /files/note.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return try client.readResponse().text
        }
        XCTAssertTrue(try put("note.txt", Array("first".utf8)).hasPrefix("HTTP/1.1 201"))
        XCTAssertEqual(try download(), "first")
        XCTAssertEqual(try download(), "first", "served from the cache")
        XCTAssertTrue(try put("note.txt", Array("second, longer".utf8)).hasPrefix("HTTP/1.1 204"))
        XCTAssertEqual(try download(), "second, longer")
    }

    /// A real full disk (a 256 KiB tmpfs): 507, and neither the file nor its temp file remains.
    func testAFullDiskAnswers507AndLeavesNothing() throws {
        let mountPoint = ServerProcess.temporaryDirectory()
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=256k") == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (errno \(errno)): needs root or CAP_SYS_ADMIN")
        }
        defer { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
        root = mountPoint
        let server = try ServerProcess(["start", "--root", root, "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        self.server = server
        port = server.port()
        server.waitForReady(1)
        let reply = try put("huge.bin", [UInt8](repeating: 9, count: 1_000_000))
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 507 Insufficient Storage"), reply)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.folder.isEmpty }, "left behind: \(folder)")
        XCTAssertTrue(try put("small.txt", Array("fits".utf8)).hasPrefix("HTTP/1.1 201"), "the disk has room again")
        server.stop()
    }
}
