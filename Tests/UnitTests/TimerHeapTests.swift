import XCTest

@testable import EventLoop

/// The worker loop's timer heap: deadlines come out earliest first, and only once due.
final class TimerHeapTests: XCTestCase {
    final class Target: TimerTarget {
        let id: Int
        init(id: Int) { self.id = id }
        func timerFired(scheduled: UInt64, now: UInt64) {}
    }

    /// SplitMix64: a fixed seed, so a failure can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

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
            for (id, deadline) in deadlines.enumerated() { heap.push(deadline, Target(id: id)) }
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
                heap.push(deadline, Target(id: 0))
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

    func testAStaleEntryIsRecognisedByItsScheduledInstant() {
        // A target that moved its deadline ignores the entry scheduled for the old one.
        final class Connection: TimerTarget {
            var deadline: UInt64 = 0
            var fired: [UInt64] = []
            func timerFired(scheduled: UInt64, now: UInt64) {
                if scheduled == deadline { fired.append(now) }
            }
        }
        let connection = Connection()
        var heap = TimerHeap()
        connection.deadline = 100
        heap.push(100, connection)
        connection.deadline = 50
        heap.push(50, connection)
        while let (deadline, target) = heap.popDue(now: 200) { target.timerFired(scheduled: deadline, now: 200) }
        XCTAssertEqual(connection.fired, [200], "only the live entry fires")
    }
}
