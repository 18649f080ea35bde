import Foundation
import Glibc
import XCTest

/// One `GET` with `Connection: close`: the status code and the body.
func httpGet(_ client: EchoClient, _ target: String) throws -> (status: Int, body: String) {
    try client.send("GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    let text = String(decoding: try client.receiveAll(), as: UTF8.self)
    guard let end = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
        throw EchoClient.Failure(description: "not an HTTP response: \(text.prefix(200))")
    }
    return (status, String(text[end.upperBound...]))
}

func httpGet(port: UInt16, _ target: String) throws -> (status: Int, body: String) {
    try httpGet(try EchoClient(port: port), target)
}

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
/// that did not come back `200` with the expected body. A client that never retries.
final class RequestStream: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var succeeded = 0
    private var failures: [String] = []
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16, target: String = "/hello/stream", expected: String = "Hello, stream") {
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopped }) {
                do {
                    let (status, body) = try httpGet(port: port, target)
                    lock.withLock {
                        if status == 200 && body == expected { succeeded += 1 } else { failures.append("\(status) \(body)") }
                    }
                } catch {
                    lock.withLock { failures.append(String(describing: error)) }
                }
            }
            done.signal()
        }
    }

    var count: Int { lock.withLock { succeeded } }

    /// Stops and returns (successes, failures).
    func finish() -> (succeeded: Int, failures: [String]) {
        lock.withLock { stopped = true }
        done.wait()
        return lock.withLock { (succeeded, failures) }
    }
}
