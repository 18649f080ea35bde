import Posix

/// When a worker gives its free heap back to the kernel (`Heap.giveBackFreePages`): at a
/// heartbeat, once at least `step` bytes were freed since the lowest point malloc's free total
/// reached after the last give-back, so a burst's memory goes back within a heartbeat of its end.
///
/// The free total alone cannot say what is resident: malloc still counts a block it gave back as
/// free. What it can say is how much was freed since the low point, and memory freed after being
/// in use is resident. So a steady worker never gives back, one holding live state (10,000 idle
/// connections) neither, and one whose burst is over does, once.
struct HeapReturn {
    /// 1 MiB: above what a heartbeat's own churn frees, below a burst's footprint (1,000 keep-alive
    /// connections closing free about 1.9 MB, which a 2 MiB step kept resident for good). A
    /// give-back too many costs little: the page faults of reusing 1 MiB, about 256, at most once
    /// a heartbeat.
    static let step = 1 << 20

    /// The lowest free total seen since the last give-back (or the start).
    private(set) var lowestFree: Int

    init(free: Int) { lowestFree = free }

    /// At a heartbeat, with malloc's free total: whether to give the free heap back now.
    mutating func isDue(free: Int) -> Bool {
        lowestFree = min(lowestFree, free)
        return free >= lowestFree + Self.step
    }

    /// After a give-back, with the free total then (unchanged, but none of it resident now).
    mutating func gaveBack(free: Int) {
        lowestFree = free
    }

    /// At a heartbeat: gives the heap back if due. True when it did.
    @discardableResult
    mutating func check() -> Bool {
        let free = Heap.freeBytes
        guard isDue(free: free) else { return false }
        Heap.giveBackFreePages()
        gaveBack(free: Heap.freeBytes)
        return true
    }
}
