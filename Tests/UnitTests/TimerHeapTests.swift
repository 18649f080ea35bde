import Posix
import TestSupport
import XCTest

@testable import EventLoop

/// The worker loop's timer heap: deadlines come out earliest first, and only once due; an entry
/// can be moved or removed, and the entries of closed connections do not stay behind.
final class TimerHeapTests: XCTestCase {
    final class Target: TimerTarget {
        let id: Int
        init(id: Int) { self.id = id }
    }

    /// The test process's one loop (`EventLoop.boot()` may run once per process; `LoopTests`
    /// share it). Only created and touched on the test's thread, never run here.
    static let loop: EventLoop? = EventLoop.installed ?? (try? EventLoop.boot())

    func testEmptyHeap() {
        var heap = TimerHeap()
        XCTAssertTrue(heap.isEmpty)
        XCTAssertNil(heap.earliest)
        XCTAssertNil(heap.popDue(now: .max))
    }

    func testRandomDeadlinesPopInOrderAndOnlyWhenDue() throws {
        var random = SeededGenerator(state: 42)
        for round in 0..<20 {
            var heap = TimerHeap()
            let count = Int.random(in: 1...500, using: &random)
            // A small range makes duplicates likely.
            let deadlines = (0..<count).map { _ in UInt64.random(in: 1_000...(round.isMultiple(of: 2) ? 1_200 : 1_000_000), using: &random) }
            for (id, deadline) in deadlines.enumerated() { heap.schedule(Target(id: id), at: deadline) }
            XCTAssertEqual(heap.count, count)
            XCTAssertEqual(heap.earliest, deadlines.min())

            let sorted = deadlines.sorted()
            let cut = sorted[sorted.count / 2]
            XCTAssertNil(heap.popDue(now: sorted[0] - 1), "nothing is due before the earliest deadline")

            var popped: [UInt64] = []
            while let (deadline, target) = heap.popDue(now: cut) {
                let id = try XCTUnwrap(target as? Target).id
                XCTAssertEqual(deadlines[id], deadline, "each deadline comes out with its own target")
                popped.append(deadline)
            }
            XCTAssertEqual(popped, sorted.filter { $0 <= cut }, "round \(round): every due deadline, earliest first")
            if let earliest = heap.earliest { XCTAssertGreaterThan(earliest, cut) }

            while let (deadline, _) = heap.popDue(now: .max) { popped.append(deadline) }
            XCTAssertEqual(popped, sorted, "round \(round)")
            XCTAssertTrue(heap.isEmpty)
        }
    }

    func testInterleavedPushAndPopMatchASortedModel() throws {
        var random = SeededGenerator(state: 7)
        var heap = TimerHeap()
        var model: [UInt64] = []
        var now: UInt64 = 0
        for _ in 0..<5_000 {
            if Bool.random(using: &random) {
                let deadline = now + UInt64.random(in: 0...100, using: &random)
                heap.schedule(Target(id: 0), at: deadline)
                model.append(deadline)
            } else {
                now += UInt64.random(in: 0...30, using: &random)
                model.sort()
                let due = model.prefix { $0 <= now }
                var popped: [UInt64] = []
                while let (deadline, _) = heap.popDue(now: now) { popped.append(deadline) }
                XCTAssertEqual(popped, Array(due))
                model.removeFirst(due.count)
            }
            XCTAssertEqual(heap.count, model.count)
            XCTAssertEqual(heap.earliest, model.min())
        }
    }

    func testATargetHasOneEntryThatMovesEarlierOrLater() throws {
        let target = Target(id: 1)
        let other = Target(id: 2)
        var heap = TimerHeap()
        heap.schedule(target, at: 100)
        heap.schedule(other, at: 70)
        heap.schedule(target, at: 50)
        XCTAssertEqual(heap.count, 2, "moving a deadline does not add an entry")
        XCTAssertEqual(heap.deadline(of: target), 50)
        heap.schedule(target, at: 90)
        XCTAssertEqual(heap.deadline(of: target), 90)
        let first = try XCTUnwrap(heap.popDue(now: 200))
        XCTAssertTrue(first.target === other)
        let second = try XCTUnwrap(heap.popDue(now: 200))
        XCTAssertTrue(second.target === target)
        XCTAssertEqual(second.deadline, 90)
        XCTAssertFalse(target.isScheduled)
        XCTAssertNil(heap.popDue(now: .max))
    }

    func testRandomScheduleMoveRemoveAndPopMatchAModel() throws {
        var random = SeededGenerator(state: 99)
        var heap = TimerHeap()
        let targets = (0..<300).map { Target(id: $0) }
        var model: [Int: UInt64] = [:]  // target id -> deadline
        var now: UInt64 = 0
        for step in 0..<20_000 {
            let target = targets[Int.random(in: 0..<targets.count, using: &random)]
            switch UInt64.random(in: 0..<10, using: &random) {
            case 0..<5:
                let deadline = now + UInt64.random(in: 0...1_000, using: &random)
                heap.schedule(target, at: deadline)
                model[target.id] = deadline
            case 5..<8:
                heap.remove(target)
                model[target.id] = nil
            default:
                now += UInt64.random(in: 0...200, using: &random)
                var popped: [UInt64] = []
                while let (deadline, fired) = heap.popDue(now: now) {
                    let id = try XCTUnwrap(fired as? Target).id
                    XCTAssertEqual(model.removeValue(forKey: id), deadline, "step \(step): each entry comes out with its own deadline")
                    XCTAssertFalse(fired.isScheduled)
                    popped.append(deadline)
                }
                XCTAssertEqual(popped, popped.sorted(), "step \(step): earliest first")
                XCTAssertFalse(model.values.contains { $0 <= now }, "step \(step): everything due came out")
            }
            XCTAssertEqual(heap.count, model.count, "step \(step)")
            XCTAssertEqual(heap.earliest, model.values.min(), "step \(step)")
            XCTAssertEqual(heap.deadline(of: target), model[target.id], "step \(step)")
        }
    }

    func testCapacityIsGivenBackWhenTheHeapEmpties() {
        var heap = TimerHeap()
        let targets = (0..<100_000).map { Target(id: $0) }
        for (index, target) in targets.enumerated() { heap.schedule(target, at: UInt64(index % 977)) }
        XCTAssertGreaterThanOrEqual(heap.capacity, 100_000)
        for target in targets.prefix(50_000) { heap.remove(target) }
        while heap.popDue(now: .max) != nil {}
        XCTAssertLessThanOrEqual(heap.capacity, 2 * TimerHeap.retainedCapacity, "a past peak is not kept")
    }

    /// The defect of the short-connection memory growth: each closed connection left its entry (or
    /// two: the header timeout, then the lingering close's earlier one) in the heap until the
    /// deadline, keeping its handle alive; at tens of thousands of connections per second that
    /// was 138,000 entries with 50 connections open, and the worker's RSS grew with each new peak.
    func testClosedHandlesLeaveNoEntryBehind() throws {
        let loop = try XCTUnwrap(Self.loop, "EventLoop.boot() failed")
        let before = loop.timers.count
        var handles: [() -> AnyObject?] = []
        for _ in 0..<1_000 {
            let (mine, peer) = try Socket.seqpacketPair()
            let handle = try loop.register(mine)
            handle.arm(timeout: .seconds(10))  // waiting for the request head
            handle.arm(timeout: .seconds(2))  // then a lingering close, which moves it earlier
            loop.close(handle)
            peer.close()
            handles.append { [weak handle] in handle }
        }
        XCTAssertEqual(loop.timers.count, before, "no heap entry outlives its closed handle")
        XCTAssertEqual(handles.filter { $0() != nil }.count, 0, "closed handles are freed at once, not at their deadline")
    }
}
