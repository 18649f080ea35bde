import Foundation
import Glibc
import Posix
import TestSupport
import XCTest

/// A worker gives the memory of a burst back to the kernel once the burst is over, instead of
/// keeping its peak RSS for good (malloc keeps freed blocks that lie between live ones).
final class BurstMemoryTests: XCTestCase {
    /// A process's resident set, in bytes, as the master's memory watch reads it; 0 once it is gone.
    func resident(_ pid: pid_t) -> Int {
        Int((try? MemoryRollup.read(pid: pid))??.residentBytes ?? 0)
    }

    func testAWorkerGivesABurstsMemoryBackOnceItIsOver() throws {
        // Under scripts/asan the server is ASan-built too: its allocator, not glibc's, holds the heap.
        try XCTSkipIf(Sanitizers.addressSanitizerIsActive, "ASan's allocator replaces glibc's heap")
        let server = try ServerProcess(["start", "--app", "http", "--workers", "1", "--bind", "127.0.0.1:0",
                                        "--health-interval", "0", "--header-timeout", "60s"])
        let port = server.port()
        server.waitForReady(1)
        let worker = try XCTUnwrap(server.workerPIDs.first)
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/warm").status, 200)
        let before = resident(worker)
        // A burst: 1,500 connections each in the middle of a 3 KB field, so each holds a parser
        // with that much of its head (about 7 KiB in all) until it closes.
        let padding = String(repeating: "p", count: 3000)
        var burst: [EchoClient] = []
        for index in 0..<1500 {
            let client = try EchoClient(port: port)
            try client.send("GET /hello/\(index) HTTP/1.1\r\nHost: burst\r\nX-Padding: \(padding)")
            burst.append(client)
        }
        let grown = 6 << 20
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.resident(worker) >= before + grown },
                      "the burst's state is resident: \(before) -> \(resident(worker)) B")
        let peak = resident(worker)
        for client in burst { client.abort() }
        burst.removeAll()
        // Within a heartbeat or so of the last close, the freed heap goes back.
        let returned = waitUntil(timeout: ServerProcess.deadline) { self.resident(worker) <= peak - grown / 2 }
        XCTAssertTrue(returned, "RSS before \(before), at the peak \(peak), now \(resident(worker)) B")
        print("burst memory: RSS \(before / 1024) KiB idle, \(peak / 1024) KiB with 1,500 half-sent heads, \(resident(worker) / 1024) KiB after")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/after").text, "Hello, after")
    }
}
