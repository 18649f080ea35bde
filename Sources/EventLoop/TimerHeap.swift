import Posix

/// Something that wants to be called back at an instant. It is in the loop's heap at most once:
/// it knows its own place there (`heapIndex`), so its deadline can be moved or its entry removed
/// in O(log n) without searching.
class TimerTarget {
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    /// Where this target's entry is in `TimerHeap.entries`, or -1 when it has none. Written by the
    /// heap only.
    @exclusivity(unchecked) fileprivate(set) var heapIndex = -1

    /// Its entry is in a heap.
    final var isScheduled: Bool { heapIndex >= 0 }

    /// Called once its deadline has come (its entry has been removed first).
    func timerFired(now: UInt64) {}
}

/// A binary min-heap of deadlines (nanoseconds on the monotonic clock), one entry per target.
///
/// Targets remove their entry when they go away (a connection when it closes, a `LoopTimer` when
/// it is cancelled), so the heap holds what is still waiting, never the dead: an entry keeps its
/// target alive, and one left behind by each closed connection until its deadline held every
/// connection of the last few seconds (measured: 138,000 entries and 12 MB of malloc heap with 50
/// connections open, at 43,000 `Connection: close` requests/s). Connections still move a
/// deadline *later* by writing a field only (`IOHandle.deadline`): the entry fires at the old
/// instant and the target puts itself back for the new one, so a busy keep-alive connection
/// costs one heap operation per idle-timeout period, not one per read. A deadline moved
/// *earlier* moves the entry.
///
/// The array's capacity follows what is scheduled: it is given back when the heap shrinks to a
/// quarter of it (a burst of connections does not pin its peak for the life of the worker).
struct TimerHeap {
    private(set) var entries: [(deadline: UInt64, target: TimerTarget)] = []
    /// Capacity kept however empty the heap gets (entries are 16 bytes: 16 KiB).
    static let retainedCapacity = 1024

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var capacity: Int { entries.capacity }
    var earliest: UInt64? { entries.first?.deadline }

    /// The instant `target`'s entry is due, or nil when it has none.
    @inline(__always)
    func deadline(of target: TimerTarget) -> UInt64? {
        target.heapIndex >= 0 ? entries[target.heapIndex].deadline : nil
    }

    /// Schedules `target` at `deadline`: adds its entry, or moves the one it has.
    mutating func schedule(_ target: TimerTarget, at deadline: UInt64) {
        let index = target.heapIndex
        if index < 0 {
            entries.append((deadline, target))
            target.heapIndex = entries.count - 1
            siftUp(entries.count - 1)
        } else {
            precondition(index < entries.count && entries[index].target === target, "a timer target scheduled in another heap")
            let earlier = deadline < entries[index].deadline
            entries[index].deadline = deadline
            if earlier { siftUp(index) } else { siftDown(index) }
        }
    }

    /// Removes `target`'s entry, if it has one.
    mutating func remove(_ target: TimerTarget) {
        let index = target.heapIndex
        guard index >= 0 else { return }
        precondition(index < entries.count && entries[index].target === target, "a timer target scheduled in another heap")
        _ = removeEntry(at: index)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> (deadline: UInt64, target: TimerTarget)? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        return removeEntry(at: 0)
    }

    private mutating func removeEntry(at index: Int) -> (deadline: UInt64, target: TimerTarget) {
        let removed = entries[index]
        removed.target.heapIndex = -1
        let last = entries.removeLast()
        if index < entries.count {
            entries[index] = last
            last.target.heapIndex = index
            if index > 0 && last.deadline < entries[(index - 1) / 2].deadline { siftUp(index) } else { siftDown(index) }
        }
        if entries.count &* 4 < entries.capacity && entries.capacity > Self.retainedCapacity { shrink() }
        return removed
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let moving = entries[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard moving.deadline < entries[parent].deadline else { break }
            entries[child] = entries[parent]
            entries[child].target.heapIndex = child
            child = parent
        }
        if child != start {
            entries[child] = moving
            moving.target.heapIndex = child
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let moving = entries[parent]
        let count = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let smaller = right < count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[smaller].deadline < moving.deadline else { break }
            entries[parent] = entries[smaller]
            entries[parent].target.heapIndex = parent
            parent = smaller
        }
        if parent != start {
            entries[parent] = moving
            moving.target.heapIndex = parent
        }
    }

    /// Gives back most of a capacity a past peak left: keeps twice what is scheduled now, so the
    /// next shrink is another halving away (amortised O(1) per removal).
    private mutating func shrink() {
        var smaller: [(deadline: UInt64, target: TimerTarget)] = []
        smaller.reserveCapacity(Swift.max(entries.count * 2, Self.retainedCapacity))
        smaller.append(contentsOf: entries)
        entries = smaller
    }
}

/// A callback at an instant, for the loop's own periodic work (heartbeats, drain deadlines).
public final class LoopTimer {
    private let entry: Entry
    unowned let loop: EventLoop

    final class Entry: TimerTarget {
        let action: () -> Void
        init(action: @escaping () -> Void) { self.action = action }
        override func timerFired(now: UInt64) { action() }
    }

    init(loop: EventLoop, at deadline: UInt64, action: @escaping () -> Void) {
        self.loop = loop
        entry = Entry(action: action)
        loop.timers.schedule(entry, at: deadline)
    }

    /// It will not fire (if it has not yet). Its entry leaves the heap now, and the action with it.
    public func cancel() { loop.timers.remove(entry) }
}
