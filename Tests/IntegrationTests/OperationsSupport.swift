import Foundation
import Glibc
import XCTest

/// Runs the `supervisor` command line (status, reload, stop, scale) and captures what it says.
func runCommand(_ arguments: [String], timeout: TimeInterval = 60) throws -> (code: Int32, output: String, error: String) {
    let process = Foundation.Process()
    process.executableURL = URL(fileURLWithPath: ServerProcess.binary("supervisor"))
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Requests in a loop on fresh connections from a background thread until stopped; counts the ones
/// that did not come back `200` with the expected body. A client that never retries. With
/// `keepAlive`, requests go on one kept-alive connection, a new one only after a response said
/// `Connection: close`, as a proxy's pool does.
final class RequestStream: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var succeeded = 0
    /// Connections opened (with `keepAlive`: the first, and one after each `Connection: close`).
    private var opened = 0
    private var failures: [String] = []
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16, target: String = "/hello/stream", expected: String = "Hello, stream", keepAlive: Bool = false) {
        Thread.detachNewThread { [self] in
            var kept: EchoClient?
            while !lock.withLock({ stopped }) {
                do {
                    let response: HTTPResponse
                    if keepAlive {
                        let connection = try kept ?? { lock.withLock { opened += 1 }; return try EchoClient(port: port) }()
                        try connection.send("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
                        response = try connection.readResponse()
                        kept = response.closes ? nil : connection
                    } else {
                        response = try HTTPTestClient.get(port: port, target)
                    }
                    lock.withLock {
                        if response.status == 200 && response.text == expected { succeeded += 1 } else { failures.append("\(response.status) \(response.text)") }
                    }
                } catch {
                    kept = nil
                    lock.withLock { failures.append(String(describing: error)) }
                }
            }
            done.signal()
        }
    }

    var count: Int { lock.withLock { succeeded } }
    var connections: Int { lock.withLock { opened } }

    /// Stops and returns (successes, failures).
    func finish() -> (succeeded: Int, failures: [String]) {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { (succeeded, failures) }
    }
}
