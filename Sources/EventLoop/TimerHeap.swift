import Posix

/// Something that wants to be called back at an instant.
protocol TimerTarget: AnyObject {
    /// Called when a deadline it was scheduled for has come. `scheduled` is the instant it was
    /// scheduled for, so a target can tell a stale entry from a live one.
    func timerFired(scheduled: UInt64, now: UInt64)
}

/// A binary min-heap of deadlines (nanoseconds on the monotonic clock).
///
/// Entries are never removed early: a cancelled or moved deadline leaves a stale entry that its
/// target recognises and ignores when it pops. Connections keep at most one live entry each and
/// push a new one only when their deadline moves earlier or the old entry has popped, so a busy
/// connection costs one heap operation per idle-timeout period, not one per read.
struct TimerHeap {
    private var entries: [(deadline: UInt64, target: any TimerTarget)] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var earliest: UInt64? { entries.first?.deadline }

    mutating func push(_ deadline: UInt64, _ target: any TimerTarget) {
        entries.append((deadline, target))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> (deadline: UInt64, target: any TimerTarget)? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
                if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

/// A callback at an instant, for the loop's own periodic work (heartbeats, drain deadlines).
public final class LoopTimer: TimerTarget {
    private let action: () -> Void
    private var cancelled = false

    init(action: @escaping () -> Void) { self.action = action }

    public func cancel() { cancelled = true }

    func timerFired(scheduled: UInt64, now: UInt64) {
        guard !cancelled else { return }
        cancelled = true
        action()
    }
}
