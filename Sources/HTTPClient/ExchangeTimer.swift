import EventLoop
import Posix

/// The time limits of one exchange: each wait for the server (connect, a read, a write that the
/// server does not take) is bounded by its own timeout and by what is left of the total, so a
/// server that trickles one byte every 29 seconds is stopped by the total when one is set.
struct ExchangeTimer {
    let loop: EventLoop
    let description: String
    let readTimeout: Duration
    /// When the whole exchange must be over (the loop's monotonic clock), if it must.
    let totalDeadline: UInt64?
    let total: Duration?

    init(loop: EventLoop, description: String, readTimeout: Duration, total: Duration?) {
        self.loop = loop
        self.description = description
        self.readTimeout = readTimeout
        self.total = total
        totalDeadline = total.map { loop.now &+ UInt64(max(0, $0.nanoseconds)) }
    }

    /// How long the next wait may last: `limit`, or less when the total runs out first.
    func budget(_ limit: Duration) throws(HTTPClientError) -> Duration {
        guard let totalDeadline, let total else { return limit }
        let now = loop.now
        guard now < totalDeadline else { throw totalTimedOut(total) }
        return min(limit, .nanoseconds(Int64(totalDeadline - now)))
    }

    /// What is left of the total timeout (nil without one); throws when nothing is.
    func totalLeft() throws(HTTPClientError) -> Duration? {
        guard total != nil else { return nil }
        return try budget(.nanoseconds(Int64.max))
    }

    /// The error for a wait of `limit` that timed out: the total's, if that is what ran out.
    func timedOut(_ limit: Duration, _ what: String) -> HTTPClientError {
        if let totalDeadline, let total, loop.now >= totalDeadline { return totalTimedOut(total) }
        return HTTPClientError(.readTimeout, "\(description): \(what) for \(limit)")
    }

    private func totalTimedOut(_ total: Duration) -> HTTPClientError {
        HTTPClientError(.totalTimeout, "\(description): not complete within the total timeout of \(total)")
    }
}
