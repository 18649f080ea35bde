import EventLoop
import Glibc
import HTTPServer
import Posix
import WebApp
import XCTest

/// The built-in app's `FileServer` on a temporary folder, served in-process: whole files (from
/// memory and with `sendfile`), ranges, conditional requests, and nothing outside the folder.
final class FileServerTests: XCTestCase {
    var testLoop: TestLoop!
    var root = ""
    var pool: BlockingPool!
    var files: FileServer!
    var http: HTTPHarness!
    /// 16 bytes: small enough to be cached and sent from memory.
    let small = Array("hello, the file\n".utf8)
    /// 300 KB: above the cache's limit, sent with `sendfile`, and more than a socket buffer.
    let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

    override func setUpWithError() throws {
        testLoop = try TestLoop.shared()
        var template = Array("/tmp/loop-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp", errno: .current, object: "/tmp") }
        root = String(cString: made)
        try write(small, to: "small.txt")
        try write(big, to: "big.bin")
        try write(Array("hidden".utf8), to: ".secret")
        XCTAssertEqual(mkdir(root + "/sub", 0o755), 0)
        XCTAssertEqual(symlink("/etc/passwd", root + "/escape"), 0)
        pool = BlockingPool(threads: 2)
        files = try FileServer(root: root, pool: pool, uploads: UploadLimit(counters: try SharedCounters(seats: 1), seat: 0, limit: 1))
        http = harness(HTTPSettings())
    }

    /// The built-in app's routes on the test's folder, served with `settings`.
    func harness(_ settings: HTTPSettings) -> HTTPHarness {
        let files: FileServer = files
        return HTTPHarness(testLoop, routes: LoopActor.assumeIsolated { BuiltInApp.routes(files: files) }, settings: settings)
    }

    override func tearDown() {
        pool?.shutdown()
        for name in ["small.txt", "big.bin", ".secret", "escape"] { unlink(root + "/" + name) }
        rmdir(root + "/sub")
        rmdir(root)
    }

    func write(_ bytes: [UInt8], to name: String) throws {
        let fd = open(root + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", errno: .current, object: name) }
        let descriptor = FileDescriptor(rawValue: fd)
        defer { descriptor.close() }
        try bytes.withUnsafeBytes { try descriptor.writeAll($0) }
    }

    func get(_ served: HTTPHarness.Served, _ target: String, _ fields: [String] = [], method: String = "GET") throws -> HTTPResponse {
        try served.client.exchange("\(method) \(target) HTTP/1.1\r\nHost: x\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n",
                                   bodyless: method == "HEAD")
    }

    /// The folder's descriptor lives as long as the server (and any pool job that uses it): a
    /// server let go leaves no descriptor behind, and the one in use is not closed under it.
    func testAFileServerLetGoClosesItsFolder() throws {
        let before = Set(FileDescriptor.openDescriptors())
        do {
            let files = try FileServer(root: root, pool: pool, uploads: UploadLimit(counters: try SharedCounters(seats: 1), seat: 0, limit: 1))
            let opened = Set(FileDescriptor.openDescriptors()).subtracting(before)
            XCTAssertEqual(opened.count, 1, "the folder, once")
            withExtendedLifetime(files) {}
        }
        XCTAssertEqual(Set(FileDescriptor.openDescriptors()), before, "the folder is closed with its server")
        // The harness's server still serves from its own folder descriptor.
        let served = try http.connect()
        XCTAssertEqual(try get(served, "/files/small.txt").body, small)
        try http.finish(served)
    }

    /// A file that waits for its client to read is sent from the loop's writable events: the
    /// connection holds no request worker meanwhile (a task's frames) and no input buffer (nothing
    /// more of the client's is in hand, and its request is done); 1,000 clients downloading a large
    /// file held both for nothing. Other connections are served while it waits, and it then serves
    /// its next request as before.
    func testAFileThatWaitsForItsClientHoldsNoWorkerAndNoInputBuffer() throws {
        let huge = [UInt8](repeating: 0x61, count: 4 << 20)  // far more than a socket pair buffers
        try write(huge, to: "huge.bin")
        defer { unlink(root + "/huge.bin") }
        let served = try http.connect()
        XCTAssertEqual(try get(served, "/files/small.txt").body, small)
        try testLoop.settle()
        let idle = buffersLent
        served.client.peer.stopReading()  // the client reads nothing for now
        try served.client.peer.send("GET /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        // The file is opened on the blocking pool, then sent as far as the socket takes it.
        try testLoop.run(until: "the response to begin", timeout: .seconds(30)) { served.client.peer.unreadBytes > 0 }
        try testLoop.settle()
        XCTAssertEqual(workersBusy, 0, "the rest of the file waits for the client without a worker")
        XCTAssertEqual(buffersLent, idle, "and the connection holds no input buffer meanwhile")
        let other = try http.connect()
        XCTAssertEqual(try get(other, "/files/small.txt").body, small, "another connection is served meanwhile")
        try http.finish(other)
        try served.client.peer.startReading()
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 200)
        XCTAssertTrue(reply.body == huge, "the 4 MiB body differs from the file")
        XCTAssertEqual(try get(served, "/files/small.txt").body, small, "the connection goes on")
        try http.finish(served)
    }

    /// A file that goes out piece by piece as its client reads is corked (`TCP_CORK`) until its
    /// last piece, so each piece does not end in a short segment of its own; then uncorked, so the
    /// file's tail and the next answer go out at once rather than at the kernel's 200 ms timer.
    func testAFileSentAsItsClientReadsIsCorkedUntilItsLastPiece() throws {
        let huge = [UInt8](repeating: 0x63, count: 8 << 20)  // more than loopback TCP buffers
        try write(huge, to: "huge.bin")
        defer { unlink(root + "/huge.bin") }
        let served = try http.connect(tcp: true)
        func corked() -> CInt {
            var value: CInt = -1
            var length = socklen_t(MemoryLayout<CInt>.size)
            XCTAssertEqual(getsockopt(served.serverDescriptor, CInt(IPPROTO_TCP), TCP_CORK, &value, &length), 0)
            return value
        }
        XCTAssertEqual(try get(served, "/files/small.txt").body, small)
        XCTAssertEqual(corked(), 0, "an answer sent whole is not corked")
        served.client.peer.stopReading()
        try served.client.peer.send("GET /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        try testLoop.run(until: "the response to begin", timeout: .seconds(30)) { served.client.peer.unreadBytes > 0 }
        try testLoop.settle()
        XCTAssertEqual(workersBusy, 0, "the rest of the file waits for the client")
        XCTAssertEqual(corked(), 1, "while the file waits for its client")
        try served.client.peer.startReading()
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 200)
        XCTAssertTrue(reply.body == huge, "the 8 MiB body differs from the file")
        XCTAssertEqual(corked(), 0, "once its last piece is sent")
        XCTAssertEqual(try get(served, "/files/small.txt").body, small, "the connection goes on")
        try http.finish(served)
    }

    /// A client that stops reading a file for longer than `--write-timeout` is cut off: the
    /// connection is closed and holds nothing more (no worker waits for it). So is one still
    /// waiting when a drain's deadline ends every wait. One that reads gets the whole file under
    /// the same timeout: it bounds each wait, not the whole send.
    func testAFileStalledPastTheWriteTimeoutIsCutOff() throws {
        let huge = [UInt8](repeating: 0x62, count: 4 << 20)
        try write(huge, to: "huge.bin")
        defer { unlink(root + "/huge.bin") }
        var settings = HTTPSettings()
        settings.writeTimeout = .milliseconds(300)
        let strict = harness(settings)
        let stalled = try strict.connect()
        stalled.client.peer.stopReading()
        try stalled.client.peer.send("GET /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        try testLoop.run(until: "the response to begin", timeout: .seconds(30)) { stalled.client.peer.unreadBytes > 0 }
        try testLoop.run(until: "the stalled connection to be closed", timeout: .seconds(30)) { strict.isDone(stalled) }
        XCTAssertEqual(workersBusy, 0, "nothing waits for the closed connection")
        try stalled.client.peer.startReading()
        try testLoop.run(until: "the client to see the end", timeout: .seconds(30)) { stalled.client.peer.isFinished }
        XCTAssertLessThan(stalled.client.peer.received.count, huge.count, "the file was cut off, not sent whole")
        stalled.client.peer.close()

        // At a drain's deadline every wait ends: a file waiting for its client too.
        let abandoned = try http.connect()
        abandoned.client.peer.stopReading()
        try abandoned.client.peer.send("GET /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        try testLoop.run(until: "the response to begin", timeout: .seconds(30)) { abandoned.client.peer.unreadBytes > 0 }
        try testLoop.settle()
        XCTAssertFalse(http.isDone(abandoned), "under the default 30 s write timeout, the file waits")
        let loop = testLoop.loop
        LoopActor.assumeIsolated { loop.cancelAllWaits() }
        try testLoop.run(until: "the abandoned connection to be closed", timeout: .seconds(30)) { http.isDone(abandoned) }
        XCTAssertEqual(workersBusy, 0)
        abandoned.client.peer.close()

        let reading = try strict.connect()
        try reading.client.peer.send("GET /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let reply = try reading.client.next(timeout: .seconds(30))
        XCTAssertEqual(reply.status, 200)
        XCTAssertTrue(reply.body == huge, "a client that reads gets the whole file")
        try strict.finish(reading)
    }

    /// 200 with the file's exact bytes and `Content-Length`, from memory and with `sendfile`;
    /// HEAD gives the length and no body.
    func testAFileIsServedWholeWithItsLength() throws {
        let served = try http.connect()
        let smallReply = try get(served, "/files/small.txt")
        XCTAssertEqual(smallReply.status, 200)
        XCTAssertEqual(smallReply.header("Content-Length"), "\(small.count)")
        XCTAssertEqual(smallReply.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(smallReply.body, small)
        let bigReply = try get(served, "/files/big.bin")
        XCTAssertEqual(bigReply.status, 200)
        XCTAssertEqual(bigReply.header("Content-Length"), "\(big.count)")
        XCTAssertEqual(bigReply.header("Content-Type"), "application/octet-stream")
        XCTAssertTrue(bigReply.body == big, "the 300 KB body differs from the file")
        let headReply = try get(served, "/files/big.bin", method: "HEAD")
        XCTAssertEqual(headReply.status, 200)
        XCTAssertEqual(headReply.header("Content-Length"), "\(big.count)")
        try testLoop.settle()
        XCTAssertEqual(served.client.unread, "", "no body after HEAD's head")
        try http.finish(served)
    }

    /// `Range`: 206 with `Content-Range` and exactly those bytes (a closed range, a suffix, from
    /// memory and from disk); a range past the end is 416 with `bytes */size`.
    func testRangesGet206Or416() throws {
        let served = try http.connect()
        let middle = try get(served, "/files/big.bin", ["Range: bytes=1000-1999"])
        XCTAssertEqual(middle.status, 206)
        XCTAssertEqual(middle.header("Content-Range"), "bytes 1000-1999/\(big.count)")
        XCTAssertEqual(middle.header("Content-Length"), "1000")
        XCTAssertTrue(middle.body == Array(big[1000...1999]))
        let suffix = try get(served, "/files/small.txt", ["Range: bytes=-5"])
        XCTAssertEqual(suffix.status, 206)
        XCTAssertEqual(suffix.header("Content-Range"), "bytes \(small.count - 5)-\(small.count - 1)/\(small.count)")
        XCTAssertEqual(suffix.body, Array(small.suffix(5)))
        let past = try get(served, "/files/big.bin", ["Range: bytes=\(big.count)-"])
        XCTAssertEqual(past.status, 416)
        XCTAssertEqual(past.header("Content-Range"), "bytes */\(big.count)")
        try http.finish(served)
    }

    /// `If-None-Match` with the current `ETag`, or `If-Modified-Since` its `Last-Modified`: 304,
    /// no body. A stale tag or an older date: the file.
    func testConditionalRequestsGet304OnlyWhenCurrent() throws {
        let served = try http.connect()
        let first = try get(served, "/files/big.bin")
        let etag = try XCTUnwrap(first.header("ETag"))
        let lastModified = try XCTUnwrap(first.header("Last-Modified"))
        let tagged = try get(served, "/files/big.bin", ["If-None-Match: \(etag)"])
        XCTAssertEqual(tagged.status, 304)
        XCTAssertEqual(tagged.header("ETag"), etag)
        let dated = try get(served, "/files/big.bin", ["If-Modified-Since: \(lastModified)"])
        XCTAssertEqual(dated.status, 304)
        try testLoop.settle()
        XCTAssertEqual(served.client.unread, "", "a 304 has no body")
        let stale = try get(served, "/files/big.bin", ["If-None-Match: \"stale\""])
        XCTAssertEqual(stale.status, 200)
        XCTAssertEqual(stale.body.count, big.count)
        let older = try get(served, "/files/small.txt", ["If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"])
        XCTAssertEqual(older.status, 200)
        XCTAssertEqual(older.body, small)
        try http.finish(served)
    }

    /// The conditional fields alone and together, in any letter case: `If-Range` decides whether
    /// `Range` applies, `If-None-Match` wins over `If-Modified-Since` and over a range.
    func testConditionalFieldsAloneAndTogether() throws {
        let served = try http.connect()
        let first = try get(served, "/files/small.txt")
        let etag = try XCTUnwrap(first.header("ETag"))
        let lastModified = try XCTUnwrap(first.header("Last-Modified"))
        let ranged = try get(served, "/files/small.txt", ["if-range: \(etag)", "RANGE: bytes=0-4"])
        XCTAssertEqual(ranged.status, 206)
        XCTAssertEqual(ranged.body, Array(small[0...4]))
        let staleRange = try get(served, "/files/small.txt", ["If-Range: \"stale\"", "Range: bytes=0-4"])
        XCTAssertEqual(staleRange.status, 200, "a stale If-Range sends the whole file")
        XCTAssertEqual(staleRange.body, small)
        let ifRangeAlone = try get(served, "/files/small.txt", ["If-Range: \(etag)"])
        XCTAssertEqual(ifRangeAlone.status, 200)
        XCTAssertEqual(ifRangeAlone.body, small)
        let currentAndRanged = try get(served, "/files/small.txt", ["Range: bytes=0-4", "IF-NONE-MATCH: \(etag)"])
        XCTAssertEqual(currentAndRanged.status, 304)
        let tagWins = try get(served, "/files/small.txt", ["If-None-Match: \"stale\"", "If-Modified-Since: \(lastModified)"])
        XCTAssertEqual(tagWins.status, 200, "If-Modified-Since counts only without If-None-Match")
        XCTAssertEqual(tagWins.body, small)
        let all = try get(served, "/files/small.txt", ["If-None-Match: \"stale\"", "If-Modified-Since: \(lastModified)",
                                                       "If-Range: \(lastModified)", "Range: bytes=-3"])
        XCTAssertEqual(all.status, 206)
        XCTAssertEqual(all.body, Array(small.suffix(3)))
        try testLoop.settle()
        XCTAssertEqual(served.client.unread, "")
        try http.finish(served)
    }

    /// The cache answers for the file asked for, as requests go back and forth between files, and
    /// a file replaced by an upload is served new at once, not from the cache.
    func testTheCacheServesEachFileAndForgetsAReplacedOne() throws {
        let served = try http.connect()
        for _ in 0..<2 {
            XCTAssertEqual(try get(served, "/files/small.txt").body, small)
            XCTAssertTrue(try get(served, "/files/big.bin").body == big)
        }
        XCTAssertEqual(try get(served, "/files/small.txt").body, small, "twice in a row: a hit")
        let replacement = Array("replaced\n".utf8)
        let stored = try served.client.exchange("PUT /files/small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: \(replacement.count)\r\n\r\n"
            + String(decoding: replacement, as: UTF8.self))
        XCTAssertLessThan(stored.status, 300, stored.text)
        let after = try get(served, "/files/small.txt")
        XCTAssertEqual(after.status, 200)
        XCTAssertEqual(after.body, replacement)
        XCTAssertEqual(after.header("Content-Length"), "\(replacement.count)")
        XCTAssertTrue(try get(served, "/files/big.bin").body == big)
        XCTAssertEqual(try get(served, "/files/small.txt").body, replacement)
        try http.finish(served)
    }

    /// Only regular files are served: a folder, with or without a trailing slash, is 404 (there
    /// is no listing but `/`, and no redirect), as is a name that does not exist.
    func testAFolderOrAMissingFileIs404() throws {
        let served = try http.connect()
        for target in ["/files/sub", "/files/sub/", "/files/missing.txt"] {
            XCTAssertEqual(try get(served, target).status, 404, target)
        }
        let listing = try get(served, "/")
        XCTAssertEqual(listing.status, 200)
        XCTAssertTrue(listing.text.contains(">small.txt</a> (\(small.count) bytes)"), listing.text)
        XCTAssertFalse(listing.text.contains(">sub<"), "a folder is not listed")
        try http.finish(served)
    }

    /// Nothing outside the folder: `..` (encoded, so it reaches the handler as a name) and hidden
    /// names are refused (400), raw `..` segments match no route (404), a symlink leading out is
    /// forbidden (403); `/etc/passwd` never leaks.
    func testNothingOutsideTheFolderIsServed() throws {
        let served = try http.connect()
        for (target, status) in [("/files/..%2F..%2Fetc%2Fpasswd", 400), ("/files/%2e%2e", 400), ("/files/..", 400), ("/files/.secret", 400),
                                 ("/files/../../etc/passwd", 404), ("/files/escape", 403)] {
            let reply = try get(served, target)
            XCTAssertEqual(reply.status, status, target)
            XCTAssertFalse(reply.text.contains("root:"), "\(target) leaked /etc/passwd")
        }
        try http.finish(served)
    }
}
