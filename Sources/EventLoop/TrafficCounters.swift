import Posix

/// A worker's traffic figures for the master's metrics, beside `ServiceStats`: HTTP answers by
/// method and status class, a request-duration histogram, bytes written to clients, connections
/// refused, echo conversations and lines. Cumulative since the worker started; sent in heartbeats.
///
/// Counting is on the hot path, so it is a few integer adds into counters allocated once, with
/// `ServiceStats.shared` (reached through it, where the request count is kept anyway): no
/// allocation, no string, no lock. Only the loop's thread touches them (hence `@unchecked
/// Sendable`, as `EventLoop`).
public final class TrafficCounters: @unchecked Sendable {
    /// `RequestClasses.index(method:status:)` → answers.
    public let byMethodStatus: UnsafeMutableBufferPointer<UInt64>
    /// Answers per duration bucket (not cumulative here; the master sums them up).
    public let durationBuckets: UnsafeMutableBufferPointer<UInt64>
    private let bounds: UnsafeMutableBufferPointer<UInt64>
    // Unchecked exclusivity, as `ServiceStats`: no access overlaps another.
    @exclusivity(unchecked) public private(set) var durationSumMicroseconds: UInt64 = 0
    /// Bytes the kernel took on client connections: response heads and bodies, echoed lines.
    @exclusivity(unchecked) public private(set) var bytesWritten: UInt64 = 0
    /// Connections that could not be taken: accepts that failed for want of descriptors or
    /// memory (each pause counts one), connections that could not be registered.
    @exclusivity(unchecked) public private(set) var connectionsRefused: UInt64 = 0
    @exclusivity(unchecked) public private(set) var echoConnections: UInt64 = 0
    @exclusivity(unchecked) public private(set) var echoConnectionsOpen: UInt64 = 0
    @exclusivity(unchecked) public private(set) var echoLines: UInt64 = 0

    init() {
        byMethodStatus = .allocate(capacity: RequestClasses.methodStatusCount)
        byMethodStatus.initialize(repeating: 0)
        durationBuckets = .allocate(capacity: RequestClasses.durationBucketCount)
        durationBuckets.initialize(repeating: 0)
        bounds = .allocate(capacity: RequestClasses.durationBoundsMicroseconds.count)
        _ = bounds.initialize(from: RequestClasses.durationBoundsMicroseconds)
    }

    /// One HTTP answer: `method` is its index in `RequestClasses.methods`.
    @inline(__always)
    public func answered(method: Int, status: Int, microseconds: UInt64) {
        byMethodStatus[RequestClasses.index(method: method, status: status)] &+= 1
        durationSumMicroseconds &+= microseconds
        var bucket = 0
        while bucket < bounds.count && microseconds > bounds[bucket] { bucket &+= 1 }
        durationBuckets[bucket] &+= 1
    }

    @inline(__always)
    public func wrote(_ count: Int) { bytesWritten &+= UInt64(truncatingIfNeeded: count) }

    public func refused() { connectionsRefused &+= 1 }

    public func echoOpened() { echoConnections &+= 1; echoConnectionsOpen &+= 1 }
    public func echoClosed() { echoConnectionsOpen &-= 1 }
    @inline(__always)
    public func echoed(lines: UInt64) { echoLines &+= lines }
}
