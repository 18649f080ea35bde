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
                    let response = try HTTPTestClient.get(port: port, target)
                    lock.withLock {
                        if response.status == 200 && response.text == expected { succeeded += 1 } else { failures.append("\(response.status) \(response.text)") }
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
