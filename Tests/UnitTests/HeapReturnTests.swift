import Posix
import TestSupport
@testable import WorkerRuntime
import XCTest

final class HeapReturnTests: XCTestCase {
    private let mib = 1 << 20

    func testASteadyWorkerNeverGivesBack() {
        var policy = HeapReturn(free: 3 * mib)
        for free in [3 * mib, 3 * mib + 500_000, 2 * mib + 500_000, 3 * mib, 3 * mib + 500_000 - 1] {
            XCTAssertFalse(policy.isDue(free: free), "free \(free): less than a step above the low point")
        }
    }

    func testABurstIsGivenBackOnceWhenItEnds() {
        var policy = HeapReturn(free: 1 * mib)
        // During the burst the heap is in use: the free total falls, nothing to give back.
        XCTAssertFalse(policy.isDue(free: 200_000))
        XCTAssertFalse(policy.isDue(free: 100_000))
        // The burst's connections close: 12 MiB freed since the low point.
        XCTAssertTrue(policy.isDue(free: 12 * mib))
        policy.gaveBack(free: 12 * mib)
        // malloc still counts the given-back blocks as free: that is no reason to do it again.
        XCTAssertFalse(policy.isDue(free: 12 * mib))
        XCTAssertFalse(policy.isDue(free: 12 * mib + 500_000))
    }

    func testMemoryReusedAndFreedAgainIsGivenBackAgain() {
        var policy = HeapReturn(free: 0)
        policy.gaveBack(free: 10 * mib)
        // The next burst reuses 6 MiB of the given-back blocks (faulting them in again), then frees them.
        XCTAssertFalse(policy.isDue(free: 4 * mib))
        XCTAssertTrue(policy.isDue(free: 10 * mib), "6 MiB were resident and free again")
    }

    /// 1,000 keep-alive connections closing free about 1.9 MB: that is a burst to give back.
    func testAThousandConnectionsClosingAreGivenBack() {
        var policy = HeapReturn(free: 2 * mib)
        XCTAssertFalse(policy.isDue(free: 1 * mib + 300_000), "while they are open")
        XCTAssertTrue(policy.isDue(free: 1 * mib + 300_000 + 1_900_000), "once they closed")
    }

    func testLiveStateIsNotGivenBack() {
        // 10,000 idle connections: the resident set grows, but the memory is in use, not free.
        var policy = HeapReturn(free: 1 * mib)
        for _ in 0..<10 { XCTAssertFalse(policy.isDue(free: 1 * mib + 100_000)) }
    }

    /// The real heap: blocks freed between ones still in use stay resident (free cannot shrink the
    /// heap past a block in use) until `giveBackFreePages`, which returns their pages.
    func testFreedBlocksBetweenLiveOnesAreGivenBackToTheKernel() throws {
        try XCTSkipIf(Sanitizers.addressSanitizerIsActive, "ASan's allocator replaces glibc's heap")
        let blockSize = 8 * 1024
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4000 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 0xA5, count: blockSize)  // resident now
            blocks.append(block)
        }
        var kept: [UnsafeMutableRawPointer] = []
        for (index, block) in blocks.enumerated() {
            if index % 8 == 7 { kept.append(block) } else { block.deallocate() }
        }
        defer { for block in kept { block.deallocate() } }
        let freed = 3500 * blockSize  // 27 MiB
        XCTAssertGreaterThanOrEqual(Heap.freeBytes, freed, "malloc holds the freed blocks")
        let before = Process.residentBytes()
        XCTAssertTrue(Heap.giveBackFreePages())
        let after = Process.residentBytes()
        XCTAssertGreaterThan(before - after, freed / 2, "RSS \(before) -> \(after): the free pages went back to the kernel")
    }
}
