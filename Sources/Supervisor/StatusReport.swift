import Logging
import Posix

/// What `supervisor status` shows: built by the master from its worker table, rendered there as a
/// table for people or JSON for machines, so the client only prints it.
public struct StatusReport: Equatable, Sendable {
    public struct WorkerRow: Equatable, Sendable {
        public var pid: ProcessID
        public var slot: Int
        public var generation: Int
        /// booting, ready, retiring, killed; `recycling` is shown as its own state.
        public var state: String
        public var ageMilliseconds: Int64
        public var requests: UInt64
        public var connections: UInt64
        public var residentBytes: UInt64
        public var lastHeartbeatMilliseconds: Int64
    }

    public var masterPID: ProcessID
    public var uptimeMilliseconds: Int64
    public var generation: Int
    public var desiredWorkers: Int
    /// serving, stopping, upgrading
    public var phase: String
    /// False while out of the load balancer's rotation (`supervisor drain`, `--shutdown-delay`).
    public var inRotation = true
    public var app: String
    public var binds: [String]
    public var restarts: Int
    /// `--worker-connections` (0: none): CONNS then reads `open/limit`.
    public var connectionLimit = 0
    public var workers: [WorkerRow]
    /// Answered requests (or echoed lines) per second over the last second or more.
    public var requestsPerSecond = 0.0
    /// Replacements by reason (`WorkerTable.RestartReason`, in its order).
    public var restartReasons: [Count] = []
    /// Each listener's accept queue (nil: a unix socket, no such figure).
    public var listenQueues: [ListenQueue] = []

    public struct Count: Equatable, Sendable {
        public var name: String
        public var value: UInt64
    }

    public struct ListenQueue: Equatable, Sendable {
        public var address: String
        public var length: UInt32?
    }

    /// A few lines a person reads at a glance.
    public func table() -> String {
        var lines = [
            "master  pid \(masterPID)  up \(Self.age(uptimeMilliseconds))  generation \(generation)  workers \(workers.filter { $0.state == "ready" || $0.state == "booting" }.count)/\(desiredWorkers)  \(phase)\(inRotation ? "" : " (out of rotation)")  restarts \(restarts)",
            "app     \(app) on \(binds.joined(separator: ", "))",
            "traffic \(Self.rate(requestsPerSecond)) req/s  listen queue \(listenQueues.map { "\($0.address) \($0.length.map(String.init) ?? "-")" }.joined(separator: ", "))",
            "restart \(restartReasons.map { "\($0.name) \($0.value)" }.joined(separator: ", "))",
            "",
        ]
        let header = ["PID", "SLOT", "GEN", "STATE", "AGE", "REQUESTS", "CONNS", "RSS", "HEARTBEAT"]
        var rows = [header]
        for worker in workers.sorted(by: { ($0.slot, $0.generation, $0.pid) < ($1.slot, $1.generation, $1.pid) }) {
            rows.append([
                String(worker.pid), String(worker.slot), String(worker.generation), worker.state, Self.age(worker.ageMilliseconds),
                String(worker.requests), HealthReporter.fullness(worker.connections, limit: connectionLimit),
                worker.residentBytes == 0 ? "-" : Self.megabytes(worker.residentBytes), "\(Self.age(worker.lastHeartbeatMilliseconds)) ago",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                // Numbers right-aligned, words left-aligned.
                return column == 3 || column == 0 ? cell + pad : pad + cell
            }
            lines.append(cells.joined(separator: "  ").trimmingTrailingBlanks)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object; numbers are numbers, durations in milliseconds.
    public func json() -> String {
        func string(_ text: String) -> String { Logger.jsonString(text) }
        let rows = workers.sorted(by: { ($0.slot, $0.generation, $0.pid) < ($1.slot, $1.generation, $1.pid) }).map { worker in
            "{\"pid\":\(worker.pid),\"slot\":\(worker.slot),\"generation\":\(worker.generation),\"state\":\(string(worker.state)),"
                + "\"age_ms\":\(worker.ageMilliseconds),\"requests\":\(worker.requests),\"connections\":\(worker.connections),"
                + "\"rss_bytes\":\(worker.residentBytes),\"last_heartbeat_ms\":\(worker.lastHeartbeatMilliseconds)}"
        }
        return "{\"master\":{\"pid\":\(masterPID),\"uptime_ms\":\(uptimeMilliseconds),\"generation\":\(generation),"
            + "\"workers\":\(desiredWorkers),\"phase\":\(string(phase)),\"in_rotation\":\(inRotation),\"app\":\(string(app)),"
            + "\"binds\":[\(binds.map(string).joined(separator: ","))],\"restarts\":\(restarts),\"connection_limit\":\(connectionLimit),"
            + "\"requests_per_s\":\(Self.rate(requestsPerSecond)),"
            + "\"restart_reasons\":{\(restartReasons.map { "\(string($0.name)):\($0.value)" }.joined(separator: ","))},"
            + "\"listen_queues\":[\(listenQueues.map { "{\"addr\":\(string($0.address)),\"length\":\($0.length.map(String.init) ?? "null")}" }.joined(separator: ","))]},"
            + "\"workers\":[\(rows.joined(separator: ","))]}\n"
    }

    /// `850ms`, `12s`, `3m04s`, `2h05m`, `3d04h`.
    static func age(_ milliseconds: Int64) -> String {
        let ms = max(0, milliseconds)
        if ms < 1000 { return "\(ms)ms" }
        let seconds = ms / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(two(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h\(two(seconds / 60 % 60))m" }
        return "\(seconds / 86_400)d\(two(seconds / 3600 % 24))h"
    }

    /// A rate to one decimal, for people and JSON alike: `0.0`, `1234.5`.
    static func rate(_ value: Double) -> String {
        let tenths = UInt64(max(0, value) * 10 + 0.5)
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func megabytes(_ bytes: UInt64) -> String {
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10)M"
    }
}

extension String {
    var trimmingTrailingBlanks: String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
