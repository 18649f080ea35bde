import Posix
import XCTest

@testable import Supervisor

/// A worker's belongings in the master (its channel and its shared-counter seat) are taken,
/// given back and released together: no path leaves a descriptor open or a seat taken.
final class WorkerRecordsTests: XCTestCase {
    func isOpen(_ fd: FileDescriptor) -> Bool { FileDescriptor.openDescriptors().contains(fd.rawValue) }

    func testWithoutSharedCountersNothingIsOpened() {
        var records = WorkerRecords(shared: nil)
        let before = Set(FileDescriptor.openDescriptors())
        XCTAssertThrowsError(try records.prepare()) { error in
            guard case .noSharedCounters = error as? WorkerRecords.PrepareFailure else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(Set(FileDescriptor.openDescriptors()), before, "no socketpair is left behind")
        XCTAssertTrue(records.byPID.isEmpty)
    }

    func testAFailedForkClosesBothEndsAndFreesTheSeat() throws {
        var records = WorkerRecords(shared: try SharedCounters(seats: 2))
        let pending = try records.prepare()
        XCTAssertTrue(isOpen(pending.masterEnd) && isOpen(pending.workerEnd))
        XCTAssertEqual(pending.seat, 0, "the lowest seat first")
        XCTAssertEqual(records.freeSeatCount, 1)

        records.abandon(pending)
        XCTAssertFalse(isOpen(pending.masterEnd))
        XCTAssertFalse(isOpen(pending.workerEnd))
        XCTAssertEqual(records.freeSeatCount, 2)
        XCTAssertTrue(records.byPID.isEmpty)
        let again = try records.prepare()
        XCTAssertEqual(again.seat, 0, "the seat given back is taken again")
        records.abandon(again)
    }

    func testACommittedWorkerKeepsOnlyTheMastersEndAndReleasingItFreesEverything() throws {
        let shared = try SharedCounters(seats: 4)
        var records = WorkerRecords(shared: shared)
        let pending = try records.prepare()
        let seat = try XCTUnwrap(pending.seat)
        records.commit(pending, pid: 500)
        XCTAssertFalse(isOpen(pending.workerEnd), "the worker's end is the child's alone")
        XCTAssertTrue(isOpen(pending.masterEnd))
        XCTAssertEqual(records.byPID[500], WorkerRecords.Record(pid: 500, channel: pending.masterEnd, seat: seat))
        XCTAssertEqual(records.channel(of: 500), pending.masterEnd)
        XCTAssertEqual(records.channels.map(\.pid), [500])

        // The worker dies holding two uploads.
        XCTAssertTrue(shared.tryAcquire(seat: seat, limit: 10))
        XCTAssertTrue(shared.tryAcquire(seat: seat, limit: 10))
        XCTAssertEqual(records.release(500), WorkerRecords.Record(pid: 500, channel: pending.masterEnd, seat: seat))
        XCTAssertFalse(isOpen(pending.masterEnd))
        XCTAssertEqual(shared.count(seat: seat), 0, "what the dead worker held is free again")
        XCTAssertEqual(records.freeSeatCount, 4)
        XCTAssertNil(records.channel(of: 500))
        XCTAssertNil(records.release(500), "released once")
    }

    func testWorkersBeyondTheSeatsStillGetAChannel() throws {
        var records = WorkerRecords(shared: try SharedCounters(seats: 1))
        let first = try records.prepare()
        records.commit(first, pid: 10)
        let second = try records.prepare()
        XCTAssertNil(second.seat, "no seat is free")
        records.commit(second, pid: 11)
        XCTAssertEqual(records.channels.map(\.pid), [10, 11], "in pid order")
        records.release(11)
        XCTAssertEqual(records.freeSeatCount, 0, "a worker without a seat gives none back")
        records.release(10)
        XCTAssertEqual(records.freeSeatCount, 1)
    }

    func testReleaseAllClosesEveryChannel() throws {
        var records = WorkerRecords(shared: try SharedCounters(seats: 8))
        var ends: [FileDescriptor] = []
        for pid in ProcessID(20)..<25 {
            let pending = try records.prepare()
            records.commit(pending, pid: pid)
            ends.append(pending.masterEnd)
        }
        records.releaseAll()
        XCTAssertTrue(records.byPID.isEmpty)
        XCTAssertEqual(ends.filter(isOpen), [])
        XCTAssertEqual(records.freeSeatCount, 8)
    }
}
