import Channel
import Posix

/// The master's running totals of its workers' counters, monotonic for the master's life: the
/// figures of every worker that has gone (its last heartbeat, folded in when it is reaped) plus
/// the live workers' latest. A new master (binary upgrade) starts from zero.
struct TrafficTotals {
    /// What departed workers had counted.
    private(set) var departed = WorkerStats()
    /// Answered requests per second over the last whole second or more (`supervisor status`).
    private(set) var requestsPerSecond = 0.0
    private var window: (start: Instant, requests: UInt64)?

    /// A reaped worker's last figures join the totals.
    mutating func fold(_ stats: WorkerStats) { departed.addCounters(of: stats) }

    /// Departed plus live: the counters summed, the gauges of the live workers only.
    func current(live: some Sequence<WorkerStats>) -> WorkerStats {
        var total = departed
        total.openConnections = 0
        total.echoConnectionsOpen = 0
        for stats in live {
            total.addCounters(of: stats)
            total.openConnections &+= stats.openConnections
            total.echoConnectionsOpen &+= stats.echoConnectionsOpen
        }
        return total
    }

    /// Whether `observe` would take a sample now.
    func sampleDue(now: Instant) -> Bool {
        guard let window else { return true }
        return now.since(window.start) >= .seconds(1)
    }

    /// Samples the request total: once a window of a second or more has passed, the rate over it.
    mutating func observe(requests: UInt64, now: Instant) {
        guard let window else {
            self.window = (now, requests)
            return
        }
        let elapsed = now.since(window.start)
        guard elapsed >= .seconds(1) else { return }
        requestsPerSecond = Double(requests &- window.requests) / (Double(elapsed.nanoseconds) / 1e9)
        self.window = (now, requests)
    }
}
