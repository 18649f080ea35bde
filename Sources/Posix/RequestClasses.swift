/// How a worker sorts the requests it counts, agreed by the worker that counts (EventLoop,
/// HTTPServer) and the master that publishes (Supervisor), which share no module but this one.
/// Fixed and small on purpose: counting is an index into preallocated counters, never a string.
public enum RequestClasses {
    /// The methods counted apart; every other one is `other`.
    public static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "other"]
    /// Status classes `1xx` to `5xx`.
    public static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    /// Index of `methods.count * statusClasses.count` counters: method-major.
    public static var methodStatusCount: Int { methods.count * statusClasses.count }
    /// Upper bounds of the request-duration histogram's buckets, in microseconds; a last bucket
    /// (`+Inf`) takes the rest. From 0.5 ms (a hello or a small cached file) to 10 s (an upload).
    public static let durationBoundsMicroseconds: [UInt64] = [
        500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
    ]
    /// Buckets counted: one per bound, and `+Inf`.
    public static var durationBucketCount: Int { durationBoundsMicroseconds.count + 1 }

    /// The counter index of a method (by its position in `methods`) and a status code; a status
    /// outside 100...599 counts as 5xx.
    @inline(__always)
    public static func index(method: Int, status: Int) -> Int {
        let statusClass = status >= 100 && status < 600 ? status / 100 - 1 : 4
        return method &* 5 &+ statusClass
    }
}
