import Channel
import Logging
import Posix

/// The master's periodic view of its workers: one log line a person can read and a machine can
/// parse. Rates are computed between two consecutive lines.
struct HealthReporter {
    let interval: Duration
    private(set) var nextAt: Instant?
    /// `--worker-connections` (0: none), so the line shows how full the busiest worker is.
    var connectionLimit = 0
    private var previous: (at: Instant, requests: UInt64, accepted: UInt64)?

    init(interval: Duration, now: Instant) {
        self.interval = interval
        nextAt = interval > .zero ? now + interval : nil
    }

    /// Returns whether a line was written.
    @discardableResult
    mutating func reportIfDue(_ table: WorkerTable, now: Instant, logger: Logger) -> Bool {
        guard let due = nextAt, now >= due else { return false }
        nextAt = now + interval
        let live = Array(table.workers.values)
        let requests = table.departedRequests &+ live.reduce(0) { $0 &+ $1.stats.requests }
        let accepted = table.departedAccepted &+ live.reduce(0) { $0 &+ $1.stats.connectionsAccepted }
        var requestRate: Int64 = 0
        var acceptRate: Int64 = 0
        if let previous {
            let seconds = Double(now.since(previous.at).nanoseconds) / 1e9
            if seconds > 0 {
                requestRate = Int64(Double(requests &- previous.requests) / seconds)
                acceptRate = Int64(Double(accepted &- previous.accepted) / seconds)
            }
        }
        previous = (now, requests, accepted)
        let ready = live.filter { $0.state == .ready }.count
        logger.info(
            "health",
            ("workers", .string("\(table.servingCount)/\(table.desired)")),
            ("ready", LogValue(ready)),
            ("generation", LogValue(table.generation)),
            ("restarts", LogValue(table.restarts)),
            ("crash_looping", LogValue(table.crashLoopingSlots)),
            ("connections", LogValue(live.reduce(0) { $0 &+ $1.stats.openConnections })),
            ("busiest_worker_connections", .string(Self.fullness(live.map(\.stats.openConnections).max() ?? 0, limit: connectionLimit))),
            ("accepted", LogValue(accepted)),
            ("accepted_per_s", LogValue(acceptRate)),
            ("requests", LogValue(requests)),
            ("requests_per_s", LogValue(requestRate)),
            ("max_rss_mb", LogValue((live.map(\.stats.residentBytes).max() ?? 0) / 1_048_576)),
            ("max_loop_lag_ms", .string(Self.millis(live.map(\.stats.maxLoopLagMicroseconds).max() ?? 0)))
        )
        return true
    }

    /// `37`, or `37/1000` against a `--worker-connections` limit.
    static func fullness(_ open: UInt64, limit: Int) -> String { limit > 0 ? "\(open)/\(limit)" : "\(open)" }

    static func millis(_ micros: UInt64) -> String {
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
