import CLinux

/// A server-wide count (such as uploads in progress) kept in memory the master shares with all its
/// workers, with a limit that holds across them.
///
/// Each worker process owns one *seat* and counts only its own share there; the total is the sum of
/// the seats. Nothing global is ever incremented, so a worker killed at any instant leaves nothing
/// behind but its seat, which the master zeroes when it reaps it (`clear(seat:)`). A worker
/// acquires by incrementing its seat and then checking the sum, backing out if it is over the
/// limit: two workers racing for the last unit may both back out (one refusal too many), but the
/// limit is never exceeded.
public struct SharedCounters: Sendable {
    public let seats: Int
    let memory: SharedMemory

    /// Maps the seats. Call in the master, before the first fork.
    public init(seats: Int) throws(SystemError) {
        self.seats = seats
        memory = try SharedMemory(byteCount: max(1, seats) * MemoryLayout<Int64>.stride)
    }

    private func seat(_ index: Int) -> UnsafeMutablePointer<Int64> {
        precondition(index >= 0 && index < seats, "seat \(index) out of range 0..<\(seats)")
        return memory.base.assumingMemoryBound(to: Int64.self) + index
    }

    /// The sum over all seats.
    public var total: Int64 {
        var sum: Int64 = 0
        for index in 0..<seats { sum += clinux_atomic_load(seat(index)) }
        return sum
    }

    public func count(seat index: Int) -> Int64 { clinux_atomic_load(seat(index)) }

    /// Takes one unit for `seat` if the total stays within `limit`.
    public func tryAcquire(seat index: Int, limit: Int64) -> Bool {
        let pointer = seat(index)
        _ = clinux_atomic_add(pointer, 1)
        if total <= limit { return true }
        _ = clinux_atomic_add(pointer, -1)
        return false
    }

    public func release(seat index: Int) {
        _ = clinux_atomic_add(seat(index), -1)
    }

    /// Forgets whatever a dead worker held. Master only, after reaping the seat's worker.
    public func clear(seat index: Int) {
        clinux_atomic_store(seat(index), 0)
    }
}
