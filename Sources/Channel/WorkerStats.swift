import Posix

/// What a worker reports about itself in each heartbeat. Counters are cumulative since the worker
/// started, so a lost heartbeat loses nothing and the master can sum them; gauges (open
/// connections, memory, loop lag) are as of the heartbeat.
public struct WorkerStats: Equatable, Sendable {
    /// Units of work done: echoed lines, answered HTTP requests.
    public var requests: UInt64 = 0
    public var connectionsAccepted: UInt64 = 0
    public var openConnections: UInt64 = 0
    public var residentBytes: UInt64 = 0
    /// The worst lateness of the loop's timers since the previous heartbeat: how long a ready event
    /// could have waited behind other work.
    public var maxLoopLagMicroseconds: UInt64 = 0
    /// HTTP answers, `RequestClasses.index(method:status:)` → count.
    public var requestsByMethodStatus = [UInt64](repeating: 0, count: RequestClasses.methodStatusCount)
    /// HTTP answers per duration bucket (`RequestClasses.durationBoundsMicroseconds`, then `+Inf`),
    /// each bucket on its own (not cumulative).
    public var durationBuckets = [UInt64](repeating: 0, count: RequestClasses.durationBucketCount)
    public var durationSumMicroseconds: UInt64 = 0
    /// Bytes written to clients: response heads and bodies, echoed lines.
    public var bytesWritten: UInt64 = 0
    public var connectionsRefused: UInt64 = 0
    public var echoConnections: UInt64 = 0
    public var echoConnectionsOpen: UInt64 = 0
    public var echoLines: UInt64 = 0

    public init(requests: UInt64 = 0, connectionsAccepted: UInt64 = 0, openConnections: UInt64 = 0,
                residentBytes: UInt64 = 0, maxLoopLagMicroseconds: UInt64 = 0) {
        self.requests = requests
        self.connectionsAccepted = connectionsAccepted
        self.openConnections = openConnections
        self.residentBytes = residentBytes
        self.maxLoopLagMicroseconds = maxLoopLagMicroseconds
    }

    /// How many `UInt64` fields the heartbeat carries.
    static var fieldCount: Int { 11 + RequestClasses.methodStatusCount + RequestClasses.durationBucketCount }

    /// The fields in wire order.
    var fields: [UInt64] {
        [requests, connectionsAccepted, openConnections, residentBytes, maxLoopLagMicroseconds]
            + requestsByMethodStatus + durationBuckets
            + [durationSumMicroseconds, bytesWritten, connectionsRefused, echoConnections, echoConnectionsOpen, echoLines]
    }

    /// From the fields in wire order; nil unless there are exactly `fieldCount`.
    init?(fields: [UInt64]) {
        guard fields.count == Self.fieldCount else { return nil }
        self.init(requests: fields[0], connectionsAccepted: fields[1], openConnections: fields[2],
                  residentBytes: fields[3], maxLoopLagMicroseconds: fields[4])
        var next = 5
        func take(_ count: Int) -> [UInt64] {
            defer { next += count }
            return Array(fields[next..<(next + count)])
        }
        requestsByMethodStatus = take(RequestClasses.methodStatusCount)
        durationBuckets = take(RequestClasses.durationBucketCount)
        let rest = take(5)
        (durationSumMicroseconds, bytesWritten, connectionsRefused, echoConnections, echoConnectionsOpen) = (rest[0], rest[1], rest[2], rest[3], rest[4])
        echoLines = fields[next]
    }

    /// The counters of `other` added to these (a departed worker's figures folded into the
    /// master's totals); gauges are left as they are.
    public mutating func addCounters(of other: WorkerStats) {
        requests &+= other.requests
        connectionsAccepted &+= other.connectionsAccepted
        for index in requestsByMethodStatus.indices { requestsByMethodStatus[index] &+= other.requestsByMethodStatus[index] }
        for index in durationBuckets.indices { durationBuckets[index] &+= other.durationBuckets[index] }
        durationSumMicroseconds &+= other.durationSumMicroseconds
        bytesWritten &+= other.bytesWritten
        connectionsRefused &+= other.connectionsRefused
        echoConnections &+= other.echoConnections
        echoLines &+= other.echoLines
    }
}
