import Foundation
import Glibc
import XCTest

/// Reading the master's `/metrics` page in tests: fetched over a real connection, parsed into
/// `name{labels}` → value.
struct MetricsPage {
    let text: String
    let samples: [String: Double]

    static func fetch(port: UInt16) throws -> MetricsPage {
        let response = try HTTPTestClient.get(port: port, "/metrics")
        guard response.status == 200 else { throw EchoClient.Failure(description: "GET /metrics answered \(response.status)") }
        return MetricsPage(text: response.text)
    }

    init(text: String) {
        self.text = text
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    subscript(_ key: String) -> Double? { samples[key] }

    /// The sum of every sample of `name` (any labels).
    func total(_ name: String) -> Double {
        samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +)
    }

    /// `supervisor_http_requests_total` for one method and status class.
    func requests(_ method: String, _ status: String) -> Double {
        samples["supervisor_http_requests_total{method=\"\(method)\",status=\"\(status)\"}"] ?? -1
    }

    func restarts(_ reason: String) -> Double { samples["supervisor_worker_restarts_total{reason=\"\(reason)\"}"] ?? -1 }

    /// Polls the page until `condition` holds; the page that met it, or nil after failing the test
    /// with the last one seen.
    @discardableResult
    static func wait(port: UInt16, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                     until condition: (MetricsPage) -> Bool) -> MetricsPage? {
        var last: MetricsPage?
        var met: MetricsPage?
        _ = waitUntil(timeout: ServerProcess.deadline) {
            guard let page = try? fetch(port: port) else { return false }
            last = page
            if condition(page) { met = page }
            return met != nil
        }
        if met == nil { XCTFail("metrics never showed \(what); last:\n\(last?.text ?? "no page")", file: file, line: line) }
        return met
    }
}

extension ServerProcess {
    /// The metrics port, from the `serving metrics` log line (the last one: a new master's).
    func metricsPort(file: StaticString = #filePath, line: UInt = #line) -> UInt16 {
        let lines = waitForLog("msg=\"serving metrics\"", file: file, line: line)
        guard let text = lines.last, let range = text.range(of: "addr=") else { return 0 }
        return UInt16(text[range.upperBound...].split(separator: " ")[0].split(separator: ":").last ?? "") ?? 0
    }
}

/// A TCP port nothing listens on right now (a listener on port 0, closed once its port is read):
/// for an address that must stay the same across a binary upgrade.
func freeLoopbackPort() -> UInt16 {
    (try? EchoListener())?.port ?? 0
}
