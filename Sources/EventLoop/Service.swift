import Posix

/// What a worker serves its connections with: the line echo, the HTTP app, or a user's own.
///
/// The seam is one method, like Hummingbird's `respond(to:)`: the runtime accepts, counts and
/// closes; the service only talks to the connection. `serve` returns when it is done with it.
@LoopActor
public protocol Service: AnyObject {
    func serve(_ connection: Connection) async
    /// USR1 (logrotate): reopen any log file the service writes. Nothing by default. A file that
    /// cannot be reopened throws: the worker logs it, and the service keeps its old file.
    func reopenLogs() throws
}

extension Service {
    public func reopenLogs() {}
}

/// A worker's counters, reported to the master in each heartbeat.
@LoopActor
public final class ServiceStats {
    public static let shared = ServiceStats()
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    /// Units of work done (echoed lines, answered requests); services add to it with `served`.
    @exclusivity(unchecked) public private(set) var requests: UInt64 = 0
    /// `--max-requests`: once `requests` reaches it, `onRequestLimit` runs, once.
    @exclusivity(unchecked) public var requestLimit: UInt64 = .max
    public var onRequestLimit: (@LoopActor () -> Void)?
    @exclusivity(unchecked) public internal(set) var accepted: UInt64 = 0
    @exclusivity(unchecked) public internal(set) var open: UInt64 = 0

    public func served(_ count: UInt64 = 1) {
        requests &+= count
        if requests >= requestLimit, let reached = onRequestLimit {
            onRequestLimit = nil
            reached()
        }
    }

    /// The finer figures for the master's metrics (by method and status, durations, bytes).
    public let traffic = TrafficCounters()

    /// One HTTP answer: `served()`, and counted by method (its index in `RequestClasses.methods`),
    /// status and the time since `begun` (a `CLOCK_MONOTONIC` reading), in one access to `shared`.
    @inline(__always)
    public func served(method: Int, status: Int, begun: UInt64) {
        served()
        let now = Instant.nowNanoseconds
        traffic.answered(method: method, status: status, microseconds: now > begun ? (now &- begun) / 1000 : 0)
    }

    public func connectionOpened() { accepted &+= 1; open &+= 1 }
    public func connectionClosed() { open &-= 1 }
}
