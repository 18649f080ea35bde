import Channel
import Posix

/// The master's figures at one instant, as the metrics page shows them. Built by the master
/// (`Master+Metrics`), rendered here without touching anything, so the page is a unit test.
struct MetricsSnapshot {
    struct WorkerGauge: Equatable {
        var slot: Int
        var pid: ProcessID
        var residentBytes: UInt64
        var loopLagMicroseconds: UInt64
    }

    /// Counters: the departed workers' totals plus the live ones'. Gauges: the live workers' sum.
    var traffic = WorkerStats()
    var openConnections: UInt64 = 0
    var echoConnectionsOpen: UInt64 = 0
    /// Live workers by state (`booting`, `ready`, `recycling`, `retiring`, `killed`).
    var workersByState: [String: Int] = [:]
    var restarts: [WorkerTable.RestartReason: UInt64] = [:]
    var generation = 1
    /// Seconds since the Unix epoch at which this master started.
    var startTimeSeconds = 0.0
    var workers: [WorkerGauge] = []
    /// Each listener's address and its accept queue (nil for a unix socket: no such figure).
    var listenQueues: [(address: String, length: UInt32?)] = []
    var uploadsInProgress: Int64 = 0

    static let workerStates = ["booting", "ready", "recycling", "retiring", "killed"]
}

extension MetricsSnapshot {
    /// The Prometheus text exposition format (0.0.4): `# HELP` and `# TYPE` on each family, the
    /// `supervisor_` prefix, `_total` on counters, seconds and bytes.
    func text() -> String {
        var page = MetricsText()
        page.family("supervisor_http_requests_total", .counter, "HTTP requests answered, by method and status class.")
        for (methodIndex, method) in RequestClasses.methods.enumerated() {
            for (classIndex, statusClass) in RequestClasses.statusClasses.enumerated() {
                page.sample("supervisor_http_requests_total", [("method", method), ("status", statusClass)],
                            traffic.requestsByMethodStatus[methodIndex * RequestClasses.statusClasses.count + classIndex])
            }
        }
        page.family("supervisor_http_request_duration_seconds", .histogram,
                    "Time from the worker's loop turn that read a request's head to its response written.")
        var cumulative: UInt64 = 0
        for (index, bound) in RequestClasses.durationBoundsMicroseconds.enumerated() {
            cumulative &+= traffic.durationBuckets[index]
            page.sample("supervisor_http_request_duration_seconds_bucket", [("le", MetricsText.seconds(micros: bound))], cumulative)
        }
        cumulative &+= traffic.durationBuckets[RequestClasses.durationBoundsMicroseconds.count]
        page.sample("supervisor_http_request_duration_seconds_bucket", [("le", "+Inf")], cumulative)
        page.sample("supervisor_http_request_duration_seconds_sum", [], MetricsText.seconds(micros: traffic.durationSumMicroseconds))
        page.sample("supervisor_http_request_duration_seconds_count", [], cumulative)
        page.single("supervisor_response_bytes_total", .counter, "Bytes written to clients: HTTP response heads and bodies, echoed lines.",
                    traffic.bytesWritten)
        page.single("supervisor_connections_open", .gauge, "Client connections open in the workers.", openConnections)
        page.single("supervisor_connections_accepted_total", .counter, "Client connections accepted by the workers.", traffic.connectionsAccepted)
        page.single("supervisor_connections_refused_total", .counter,
                    "Connections a worker could not take: accepts failed for want of descriptors or memory, registrations failed.",
                    traffic.connectionsRefused)
        page.family("supervisor_workers", .gauge, "Worker processes by state.")
        for state in Self.workerStates { page.sample("supervisor_workers", [("state", state)], UInt64(workersByState[state] ?? 0)) }
        page.family("supervisor_worker_restarts_total", .counter, "Workers replaced, by reason.")
        for reason in WorkerTable.RestartReason.allCases { page.sample("supervisor_worker_restarts_total", [("reason", reason.rawValue)], restarts[reason] ?? 0) }
        page.single("supervisor_generation", .gauge, "The worker generation: 1 at start, one more per reload.", UInt64(max(0, generation)))
        page.family("supervisor_master_start_time_seconds", .gauge, "When this master started, in seconds since the Unix epoch.")
        page.sample("supervisor_master_start_time_seconds", [], MetricsText.decimal(startTimeSeconds))
        page.family("supervisor_worker_resident_memory_bytes", .gauge, "Each worker's resident memory, at its last heartbeat.")
        for worker in workers { page.sample("supervisor_worker_resident_memory_bytes", worker.labels, worker.residentBytes) }
        page.family("supervisor_worker_loop_lag_seconds", .gauge, "Each worker's worst event-loop lateness between its last two heartbeats.")
        for worker in workers {
            page.sample("supervisor_worker_loop_lag_seconds", worker.labels, MetricsText.seconds(micros: worker.loopLagMicroseconds))
        }
        page.family("supervisor_listen_queue_length", .gauge, "Connections waiting in each TCP listener's accept queue.")
        for queue in listenQueues {
            if let length = queue.length { page.sample("supervisor_listen_queue_length", [("listener", queue.address)], UInt64(length)) }
        }
        page.single("supervisor_uploads_in_progress", .gauge, "Upload seats in use (--max-uploads), over all workers.",
                    UInt64(max(0, uploadsInProgress)))
        page.single("supervisor_echo_connections_open", .gauge, "Echo conversations open.", echoConnectionsOpen)
        page.single("supervisor_echo_connections_total", .counter, "Echo conversations begun.", traffic.echoConnections)
        page.single("supervisor_echo_lines_total", .counter, "Lines echoed.", traffic.echoLines)
        return page.text
    }
}

extension MetricsSnapshot.WorkerGauge {
    var labels: [(String, String)] { [("slot", String(slot)), ("pid", String(pid))] }
}

/// Writes the exposition format: families, samples, label escaping, numbers.
struct MetricsText {
    enum Kind: String { case counter, gauge, histogram }

    private(set) var text = ""

    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func single(_ name: String, _ kind: Kind, _ help: String, _ value: UInt64) {
        family(name, kind, help)
        sample(name, [], value)
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: UInt64) {
        sample(name, labels, String(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    /// A label value: backslash, double quote and newline escaped, as the format asks.
    static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Microseconds as seconds, exactly: `0.0005`, `2.5`, `10`.
    static func seconds(micros: UInt64) -> String {
        let whole = micros / 1_000_000
        var fraction = String(micros % 1_000_000)
        guard fraction != "0" else { return String(whole) }
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    /// A non-negative decimal with millisecond precision, without an exponent.
    static func decimal(_ value: Double) -> String {
        seconds(micros: UInt64(max(0, value) * 1000) * 1000)
    }
}
