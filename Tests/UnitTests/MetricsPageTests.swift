import Channel
import Posix
import XCTest

@testable import Supervisor

/// The metrics page as text (the exposition format), the request parser in front of it, and the
/// totals that keep counters monotonic: all without a process.
final class MetricsPageTests: XCTestCase {
    func testRequestLinesAreParsedStrictly() {
        func parse(_ text: String) -> MetricsRequest? { MetricsRequest.parse(Array(text.utf8)) }
        XCTAssertEqual(parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"), .page(headOnly: false))
        XCTAssertEqual(parse("GET /metrics?name[]=up HTTP/1.0\r\n\r\n"), .page(headOnly: false), "a query is ignored")
        XCTAssertEqual(parse("HEAD /metrics HTTP/1.1\r\n\r\n"), .page(headOnly: true))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\n\r\n"), .notFound)
        XCTAssertEqual(parse("GET /metricsx HTTP/1.1\r\n\r\n"), .notFound)
        XCTAssertEqual(parse("POST /metrics HTTP/1.1\r\n\r\n"), .methodNotAllowed)
        XCTAssertEqual(parse("DELETE /x HTTP/1.1\r\n\r\n"), .methodNotAllowed)
        for garbage in ["\r\n\r\n", "garbage\r\n\r\n", "get /metrics HTTP/1.1\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                        "GET metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n", "GET /metrics\r\n\r\n",
                        "GET /met rics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\n\r\n\r\n", "\u{16}\u{3}\u{1} /metrics HTTP/1.1\r\n\r\n"] {
            XCTAssertEqual(parse(garbage), .badRequest, garbage.debugDescription)
        }
        XCTAssertNil(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n"), "not finished: wait for more")
        XCTAssertNil(parse(""))
        XCTAssertEqual(parse("GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000)), .headTooLarge)
        XCTAssertEqual(parse("GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n"), .headTooLarge)
    }

    func testAnswersCarryTheirStatusAndCloseTheConnection() {
        let page = String(decoding: MetricsServer.answer(.page(headOnly: false)) { "up 1\n" }, as: UTF8.self)
        XCTAssertEqual(page, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
                       + "Connection: close\r\n\r\nup 1\n")
        let head = String(decoding: MetricsServer.answer(.page(headOnly: true)) { "up 1\n" }, as: UTF8.self)
        XCTAssertTrue(head.hasSuffix("Content-Length: 5\r\nConnection: close\r\n\r\n"), head)
        let refused = String(decoding: MetricsServer.answer(.methodNotAllowed) { XCTFail("no page for a refusal"); return "" }, as: UTF8.self)
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n") && refused.contains("Allow: GET, HEAD\r\n"), refused)
        for (request, status) in [(MetricsRequest.notFound, "404"), (.badRequest, "400"), (.headTooLarge, "431")] {
            XCTAssertTrue(String(decoding: MetricsServer.answer(request) { "" }, as: UTF8.self).hasPrefix("HTTP/1.1 \(status) "))
        }
    }

    func testEveryFamilyHasHelpAndTypeAndCountersEndInTotal() {
        let text = MetricsSnapshot().text()
        var typed: [String: String] = [:]
        var helped: Set<String> = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            if words.first == "#", words.count >= 4, words[1] == "TYPE" { typed[words[2]] = words[3] }
            if words.first == "#", words.count >= 4, words[1] == "HELP" { helped.insert(words[2]) }
        }
        XCTAssertEqual(Set(typed.keys), helped)
        XCTAssertEqual(typed.count, 17)
        for (name, type) in typed {
            XCTAssertTrue(name.hasPrefix("supervisor_"), name)
            XCTAssertEqual(name.hasSuffix("_total"), type == "counter", "\(name) is a \(type)")
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            XCTAssertTrue(typed.keys.contains { name == $0 || name.hasPrefix($0 + "_") }, "\(name) belongs to a declared family")
        }
    }

    func testTheHistogramIsCumulativeAndCountsAndSumsInSeconds() {
        var snapshot = MetricsSnapshot()
        snapshot.traffic.durationBuckets[0] = 3  // ≤ 0.5 ms
        snapshot.traffic.durationBuckets[2] = 2  // ≤ 2.5 ms
        snapshot.traffic.durationBuckets[RequestClasses.durationBucketCount - 1] = 1  // > 10 s
        snapshot.traffic.durationSumMicroseconds = 12_001_500
        let page = snapshot.text()
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_bucket{le=\"0.0005\"} 3\n"), page)
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_bucket{le=\"0.001\"} 3\n"))
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_bucket{le=\"0.0025\"} 5\n"))
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_bucket{le=\"10\"} 5\n"))
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_bucket{le=\"+Inf\"} 6\n"))
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_count 6\n"))
        XCTAssertTrue(page.contains("supervisor_http_request_duration_seconds_sum 12.0015\n"))
    }

    func testSamplesCarryTheirLabelsEscaped() {
        var snapshot = MetricsSnapshot()
        snapshot.traffic.requestsByMethodStatus[RequestClasses.index(method: 2, status: 503)] = 7
        snapshot.restarts = [.memory: 2]
        snapshot.workers = [.init(slot: 1, pid: 4242, residentBytes: 9_000_000, loopLagMicroseconds: 1_500)]
        snapshot.listenQueues = [("unix:/run/a\"b\\c", nil), ("127.0.0.1:80", 12), ("[::1]:80", 0)]
        snapshot.workersByState = ["ready": 3]
        let page = snapshot.text()
        XCTAssertTrue(page.contains("supervisor_http_requests_total{method=\"POST\",status=\"5xx\"} 7\n"), page)
        XCTAssertTrue(page.contains("supervisor_http_requests_total{method=\"GET\",status=\"2xx\"} 0\n"), "every series, zeros too")
        XCTAssertTrue(page.contains("supervisor_worker_restarts_total{reason=\"memory\"} 2\n"))
        XCTAssertTrue(page.contains("supervisor_worker_restarts_total{reason=\"crash\"} 0\n"))
        XCTAssertTrue(page.contains("supervisor_worker_resident_memory_bytes{slot=\"1\",pid=\"4242\"} 9000000\n"))
        XCTAssertTrue(page.contains("supervisor_worker_loop_lag_seconds{slot=\"1\",pid=\"4242\"} 0.0015\n"))
        XCTAssertTrue(page.contains("supervisor_listen_queue_length{listener=\"127.0.0.1:80\"} 12\n"))
        XCTAssertTrue(page.contains("supervisor_listen_queue_length{listener=\"[::1]:80\"} 0\n"))
        XCTAssertFalse(page.contains("unix:/run"), "a unix listener has no queue figure")
        XCTAssertTrue(page.contains("supervisor_workers{state=\"ready\"} 3\n") && page.contains("supervisor_workers{state=\"killed\"} 0\n"))
        XCTAssertEqual(MetricsText.escaped("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
    }

    func testSecondsAreWrittenExactly() {
        XCTAssertEqual(MetricsText.seconds(micros: 0), "0")
        XCTAssertEqual(MetricsText.seconds(micros: 500), "0.0005")
        XCTAssertEqual(MetricsText.seconds(micros: 2_500_000), "2.5")
        XCTAssertEqual(MetricsText.seconds(micros: 10_000_000), "10")
        XCTAssertEqual(MetricsText.seconds(micros: 1), "0.000001")
        XCTAssertEqual(MetricsText.decimal(1_796_191_660.1734), "1796191660.173")
    }

    // MARK: Totals

    func testDepartedWorkersKeepTheirCountsAndGaugesAreTheLiveOnes() {
        var totals = TrafficTotals()
        var gone = WorkerStats(requests: 10, connectionsAccepted: 4, openConnections: 3)
        gone.requestsByMethodStatus[1] = 10
        gone.durationBuckets[0] = 10
        gone.bytesWritten = 1_000
        gone.echoConnectionsOpen = 2
        totals.fold(gone)
        var live = WorkerStats(requests: 5, connectionsAccepted: 1, openConnections: 1)
        live.requestsByMethodStatus[1] = 5
        live.bytesWritten = 50
        let current = totals.current(live: [live])
        XCTAssertEqual(current.requests, 15)
        XCTAssertEqual(current.connectionsAccepted, 5)
        XCTAssertEqual(current.requestsByMethodStatus[1], 15)
        XCTAssertEqual(current.durationBuckets[0], 10)
        XCTAssertEqual(current.bytesWritten, 1_050)
        XCTAssertEqual(current.openConnections, 1, "a departed worker's connections are not open")
        XCTAssertEqual(current.echoConnectionsOpen, 0)
    }

    func testTheRequestRateIsTakenOverAWholeSecond() {
        var totals = TrafficTotals()
        let t0 = Instant(nanoseconds: 5_000_000_000)
        totals.observe(requests: 100, now: t0)
        totals.observe(requests: 150, now: t0 + .milliseconds(500))
        XCTAssertEqual(totals.requestsPerSecond, 0, "half a second is not a window yet")
        XCTAssertFalse(totals.sampleDue(now: t0 + .milliseconds(999)))
        totals.observe(requests: 300, now: t0 + .seconds(2))
        XCTAssertEqual(totals.requestsPerSecond, 100, accuracy: 0.001)
    }

    func testHeartbeatsCarryEveryCounterAcrossTheChannel() {
        var stats = WorkerStats(requests: 1, connectionsAccepted: 2, openConnections: 3, residentBytes: 4, maxLoopLagMicroseconds: 5)
        stats.requestsByMethodStatus = (0..<RequestClasses.methodStatusCount).map { UInt64($0 + 100) }
        stats.durationBuckets = (0..<RequestClasses.durationBucketCount).map { UInt64($0 + 200) }
        (stats.durationSumMicroseconds, stats.bytesWritten, stats.connectionsRefused) = (6, 7, 8)
        (stats.echoConnections, stats.echoConnectionsOpen, stats.echoLines) = (9, 10, .max)
        let bytes = ChannelMessage.heartbeat(stats).encoded()
        XCTAssertEqual(bytes.count, 8 + 8 * 56)
        XCTAssertEqual(ChannelMessage(decoding: bytes), .heartbeat(stats))
        XCTAssertNil(ChannelMessage(decoding: bytes.dropLast(8)), "a field short")
    }
}
