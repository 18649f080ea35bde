import Posix

/// The server-wide limit on uploads in progress (`--max-uploads`), over the counters the master
/// shares with its workers: this worker counts in its own seat, the limit applies to the sum.
public struct UploadLimit: Sendable {
    let counters: SharedCounters
    let seat: Int?
    public let limit: Int

    public init(counters: SharedCounters, seat: Int?, limit: Int) {
        self.counters = counters
        self.seat = seat
        self.limit = limit
    }

    /// Takes a place, or returns false when `limit` uploads are already in progress.
    public func tryAcquire() -> Bool {
        guard let seat else { return false }
        return counters.tryAcquire(seat: seat, limit: Int64(limit))
    }

    public func release() {
        if let seat { counters.release(seat: seat) }
    }
}
