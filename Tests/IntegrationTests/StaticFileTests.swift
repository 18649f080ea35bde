import Foundation
import Glibc
import XCTest

/// `--app http --root DIR`: listing, downloads of any size, ranges, conditional requests, and
/// nothing outside the folder, against the real binary.
final class StaticFileTests: XCTestCase {
    var server: ServerProcess?
    var root = ""
    var port: UInt16 = 0
    var big: [UInt8] = []

    override func setUpWithError() throws {
        root = ServerProcess.temporaryDirectory()
        big = [UInt8](repeating: 0, count: 13_000_000)
        let random = open("/dev/urandom", O_RDONLY)
        defer { close(random) }
        var filled = 0
        while filled < big.count {
            let n = big.withUnsafeMutableBytes { Glibc.read(random, $0.baseAddress! + filled, $0.count - filled) }
            guard n > 0 else { throw EchoClient.Failure(description: "/dev/urandom: errno \(errno)") }
            filled += n
        }
        try Data(big).write(to: URL(fileURLWithPath: root + "/big.bin"))
        try Data("small\n".utf8).write(to: URL(fileURLWithPath: root + "/a <b>&.txt"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: root + "/.secret"))
        XCTAssertEqual(symlink("/etc/passwd", root + "/escape"), 0)
        XCTAssertEqual(symlink("big.bin", root + "/inside"), 0)
        let server = try ServerProcess(["start", "--app", "http", "--root", root, "--workers", "1", "--bind", "127.0.0.1:0",
                                        "--health-interval", "0"])
        self.server = server
        port = server.port()
        server.waitForReady(1)
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    /// One request with `Connection: close`; the head (as text) and the body (as bytes).
    func get(_ target: String, _ headers: [String] = [], method: String = "GET") throws -> (head: String, body: [UInt8]) {
        let response = try HTTPTestClient.get(port: port, target, headers: headers, method: method, timeout: 30)
        return (response.head, response.body)
    }

    /// What the worker's descriptors for files of the folder point at (`…/big.bin`, `…/big.bin (deleted)`).
    func filesHeldOpen(by worker: Int32) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker)/fd/\($0)") }
            .filter { $0.contains("/big.bin") }.sorted()
    }

    func header(_ name: String, in head: String) -> String? { HTTPResponse.header(name, in: head) }

    func testTheBigFileArrivesIntactAndHeadHasNoBody() throws {
        let (head, body) = try get("/files/big.bin")
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK"), head)
        XCTAssertEqual(header("Content-Length", in: head), "13000000")
        XCTAssertEqual(header("Content-Type", in: head), "application/octet-stream")
        XCTAssertEqual(body.count, big.count)
        XCTAssertTrue(body == big, "the 13 MB body differs from the file")
        let (headOnly, none) = try get("/files/big.bin", method: "HEAD")
        XCTAssertEqual(header("Content-Length", in: headOnly), "13000000")
        XCTAssertTrue(none.isEmpty)
    }

    func testRangesAndConditionalRequests() throws {
        let (head, body) = try get("/files/big.bin", ["Range: bytes=1000-1999"])
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 206 Partial Content"), head)
        XCTAssertEqual(header("Content-Range", in: head), "bytes 1000-1999/13000000")
        XCTAssertTrue(body == Array(big[1000...1999]))
        let (suffixHead, suffix) = try get("/files/big.bin", ["Range: bytes=-10"])
        XCTAssertTrue(suffixHead.hasPrefix("HTTP/1.1 206"))
        XCTAssertTrue(suffix == Array(big.suffix(10)))
        let (unsatisfiable, _) = try get("/files/big.bin", ["Range: bytes=13000000-"])
        XCTAssertTrue(unsatisfiable.hasPrefix("HTTP/1.1 416"), unsatisfiable)
        XCTAssertEqual(header("Content-Range", in: unsatisfiable), "bytes */13000000")

        let etag = try XCTUnwrap(header("ETag", in: head))
        let lastModified = try XCTUnwrap(header("Last-Modified", in: head))
        let (notModified, nothing) = try get("/files/big.bin", ["If-None-Match: \(etag)"])
        XCTAssertTrue(notModified.hasPrefix("HTTP/1.1 304 Not Modified"), notModified)
        XCTAssertTrue(nothing.isEmpty)
        XCTAssertTrue(try get("/files/big.bin", ["If-Modified-Since: \(lastModified)"]).head.hasPrefix("HTTP/1.1 304"))
        XCTAssertTrue(try get("/files/big.bin", ["If-None-Match: \"stale\""]).head.hasPrefix("HTTP/1.1 200"))
        // If-Range with a stale validator: the whole file, not the range.
        let (stale, whole) = try get("/files/big.bin", ["Range: bytes=0-9", "If-Range: \"stale\""])
        XCTAssertTrue(stale.hasPrefix("HTTP/1.1 200"), stale)
        XCTAssertEqual(whole.count, big.count)
    }

    /// 400 pipelined requests for a cached 13 KB file, sent before reading anything: far more than
    /// the socket buffers hold, so responses go out in part and wait for the reader. All arrive,
    /// whole and in order.
    func testPipelinedCachedFilesSurvivePartialWrites() throws {
        let medium = String((0..<1000).map { "line \(String($0 + 1000)) 12345\n" }.joined().prefix(13_000))  // ASCII
        try Data(medium.utf8).write(to: URL(fileURLWithPath: root + "/medium.bin"))
        let client = try EchoClient(port: port, timeout: 30)
        let sender = Thread {
            let requests = String(repeating: "GET /files/medium.bin HTTP/1.1\r\nHost: x\r\n\r\n", count: 399)
                + "GET /files/medium.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            try? client.send(requests)
        }
        sender.start()
        for index in 0..<400 {
            let response = try client.readResponse()
            let (head, body) = (response.head, response.text)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), "response \(index): \(head)")
            if body != medium { return XCTFail("response \(index) body differs (\(body.utf8.count) bytes)") }
        }
    }

    /// A hot file is found by its raw segment when that spells its name with no escape: a segment
    /// with `%` that looks like the name last served must still be decoded (`a%41` is `aA`, not
    /// the file named `a%41`), whatever was served just before, cached or not.
    func testAnEscapedSegmentIsNeverTakenForTheFileLastServed() throws {
        try Data("percent\n".utf8).write(to: URL(fileURLWithPath: root + "/a%41"))
        try Data("upper\n".utf8).write(to: URL(fileURLWithPath: root + "/aA"))
        for _ in 0..<2 {
            XCTAssertEqual(String(decoding: try get("/files/a%2541").body, as: UTF8.self), "percent\n")
            XCTAssertEqual(String(decoding: try get("/files/a%41").body, as: UTF8.self), "upper\n", "decoded, not the file just served")
            XCTAssertEqual(String(decoding: try get("/files/aA").body, as: UTF8.self), "upper\n")
            XCTAssertEqual(String(decoding: try get("/files/a%2541").body, as: UTF8.self), "percent\n")
        }
    }

    func testNothingOutsideTheFolderIsServed() throws {
        for target in ["/files/escape", "/files/..%2F..%2Fetc%2Fpasswd", "/files/%2e%2e", "/files/.secret", "/files/a%00b",
                       "/files/../../etc/passwd", "/files/%2E%2E%2Fbig.bin", "/../etc/passwd"] {
            let (head, body) = try get(target)
            let status = Int(head.split(separator: " ")[1]) ?? 0
            XCTAssertTrue([400, 403, 404].contains(status), "\(target): \(head)")
            XCTAssertFalse(String(decoding: body, as: UTF8.self).contains("root:"), "\(target) leaked /etc/passwd")
        }
        XCTAssertTrue(try get("/files/escape").head.hasPrefix("HTTP/1.1 403"), "a symlink out of the folder is forbidden")
        XCTAssertTrue(try get("/files/inside").head.hasPrefix("HTTP/1.1 200"), "a symlink within the folder is fine")
    }

    func testListingEscapesNamesAndShowsOnlyServableFiles() throws {
        let (head, body) = try get("/")
        XCTAssertEqual(header("Content-Type", in: head), "text/html; charset=utf-8")
        let html = String(decoding: body, as: UTF8.self)
        XCTAssertTrue(html.contains("<a href=\"/files/a%20%3Cb%3E%26.txt\">a &lt;b&gt;&amp;.txt</a> (6 bytes)"), html)
        XCTAssertTrue(html.contains("/files/big.bin\">big.bin</a> (13000000 bytes)"), html)
        XCTAssertFalse(html.contains("escape"), "a symlink out of the folder is not listed")
        XCTAssertFalse(html.contains("secret"), "hidden files are not listed")
        let (_, small) = try get("/files/a%20%3Cb%3E%26.txt")
        XCTAssertEqual(String(decoding: small, as: UTF8.self), "small\n")
    }

    func testAClientResettingMidDownloadCostsNothing() throws {
        let server = try XCTUnwrap(self.server)
        let worker = try XCTUnwrap(server.workerPIDs.first)
        for _ in 0..<20 {
            let client = try EchoClient(port: port, timeout: 30)
            try client.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try client.receive(100_000)
            client.abort()
        }
        let (head, body) = try get("/files/big.bin")
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"))
        XCTAssertEqual(body.count, big.count)
        XCTAssertEqual(server.workerPIDs, [worker], "the worker survived")
        // No descriptor leaked: the worker holds few fds once the aborted downloads are gone.
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd").count) ?? 99) < 15
        }, "descriptors leaked in the worker")
    }

    /// A file response owns its descriptor: whether it was sent whole, cut half-way, sent as a head
    /// only, or never sent (the client reset before the answer), the worker ends up holding the
    /// file open once, for its cache, and nothing more.
    func testEveryFileResponseClosesItsDescriptor() throws {
        let server = try XCTUnwrap(self.server)
        let worker = try XCTUnwrap(server.workerPIDs.first)
        for round in 0..<10 {
            let vanishing = try EchoClient(port: port, timeout: 30)  // never sent: gone before the answer
            try vanishing.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            vanishing.abort()
            let cut = try EchoClient(port: port, timeout: 30)  // failed half-way
            try cut.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=\(round)-\r\n\r\n")
            _ = try cut.receive(100_000)
            cut.abort()
            XCTAssertTrue(try get("/files/big.bin", method: "HEAD").head.hasPrefix("HTTP/1.1 200"))
            XCTAssertEqual(try get("/files/big.bin", ["Range: bytes=0-99999"]).body.count, 100_000)
        }
        XCTAssertEqual(try get("/files/big.bin").body, big, "served intact after all of it")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { filesHeldOpen(by: worker).count == 1 },
                      "the worker holds \(filesHeldOpen(by: worker)) open, not big.bin once for its cache")
        XCTAssertEqual(server.workerPIDs, [worker], "the worker survived")
    }

    /// A file replaced (and so dropped from the open-file cache) while a download sends from it: the
    /// download still gets the old bytes, whole, and the old descriptor closes when it ends.
    func testAFileDroppedFromTheCacheMidDownloadClosesWhenTheDownloadEnds() throws {
        let server = try XCTUnwrap(self.server)
        let worker = try XCTUnwrap(server.workerPIDs.first)
        let download = try EchoClient(port: port, timeout: 30)
        try download.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let start = try download.receiveBytes(64 * 1024)  // the rest waits: a slow reader
        let upload = try EchoClient(port: port, timeout: 30)
        try upload.send("PUT /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnew\n")
        XCTAssertTrue(String(decoding: try upload.receiveAll(), as: UTF8.self).hasPrefix("HTTP/1.1 204"))
        XCTAssertEqual(try get("/files/big.bin").body, Array("new\n".utf8), "the cache holds the new file")
        XCTAssertEqual(filesHeldOpen(by: worker).filter { $0.hasSuffix("(deleted)") }.count, 1, "the download holds the old file")

        let whole = start + (try download.receiveAll())
        let separator: [UInt8] = [13, 10, 13, 10]
        let headEnd = try XCTUnwrap((0..<1000).first { Array(whole[$0..<$0 + 4]) == separator }) + 4
        XCTAssertTrue(Array(whole[headEnd...]) == big, "the download got the old file, intact")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { filesHeldOpen(by: worker).count == 1 },
                      "the worker holds \(filesHeldOpen(by: worker)) open: the old file's descriptor was not closed")
    }

    /// SIGTERM while a download is in flight and a keep-alive connection is idle: the download
    /// completes, the idle connection's next request is answered (healthz: 503, draining) with
    /// `Connection: close` instead of being cut, and the master then exits 0.
    func testDrainFinishesDownloadsAndAnswersKeepAliveWithClose() throws {
        let server = try XCTUnwrap(self.server)
        let keepAlive = try EchoClient(port: port, timeout: 30)
        try keepAlive.send("GET /files/a%20%3Cb%3E%26.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try keepAlive.readResponse()
        XCTAssertTrue(first.head.hasPrefix("HTTP/1.1 200") && !first.head.contains("Connection: close"), first.head)
        XCTAssertEqual(first.text, "small\n")

        let download = try EchoClient(port: port, timeout: 30)
        try download.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let start = try download.receiveBytes(64 * 1024)  // the rest waits in the socket: a slow reader
        server.signal(SIGTERM)
        server.waitForLog("msg=\"worker draining\"")

        try keepAlive.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = String(decoding: try keepAlive.receiveAll(), as: UTF8.self)
        XCTAssertTrue(second.hasPrefix("HTTP/1.1 503"), second)
        XCTAssertTrue(second.contains("\r\nConnection: close\r\n") && second.hasSuffix("draining\n"), second)

        let whole = start + (try download.receiveAll())
        let separator: [UInt8] = [13, 10, 13, 10]
        let headEnd = try XCTUnwrap((0..<1000).first { Array(whole[$0..<$0 + 4]) == separator }) + 4
        XCTAssertTrue(Array(whole[headEnd...]) == big, "the download in flight completed, intact")
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 0)
    }
}
