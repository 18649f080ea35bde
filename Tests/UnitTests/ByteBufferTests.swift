import EventLoop
import XCTest

/// The growable buffer a connection keeps its partial line in.
final class ByteBufferTests: XCTestCase {
    func contents(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.bytes) }

    func append(_ bytes: [UInt8], to buffer: ByteBuffer) {
        bytes.withUnsafeBytes { buffer.append($0) }
    }

    func testStartsEmpty() {
        let buffer = ByteBuffer()
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(contents(buffer), [])
    }

    func testAppendsAcrossGrowthKeepEveryByte() {
        let buffer = ByteBuffer()
        var expected: [UInt8] = []
        // Chunks of growing size cross the 256-byte start and many doublings, some of them exactly.
        for (index, size) in [1, 254, 1, 1, 255, 1, 513, 1024, 3000, 0, 70_000, 7].enumerated() {
            let chunk = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            append(chunk, to: buffer)
            expected += chunk
            XCTAssertEqual(buffer.count, expected.count, "after chunk \(index)")
            XCTAssertEqual(buffer.isEmpty, expected.isEmpty)
        }
        XCTAssertEqual(contents(buffer), expected)
    }

    /// Written straight into the reserved room, then counted: what was there stays, growth
    /// included, and room not counted is not part of the buffer.
    func testWritingIntoTheReservedTail() {
        let buffer = ByteBuffer()
        append([1, 2, 3], to: buffer)
        let room = buffer.tail(reserving: 5000)  // past the first capacity: the storage moves
        for offset in 0..<4 { room.storeBytes(of: UInt8(10 + offset), toByteOffset: offset, as: UInt8.self) }
        buffer.grow(by: 4)
        XCTAssertEqual(contents(buffer), [1, 2, 3, 10, 11, 12, 13])
        let more = buffer.tail(reserving: 2)
        more.storeBytes(of: 99, as: UInt8.self)
        buffer.grow(by: 0)
        XCTAssertEqual(contents(buffer), [1, 2, 3, 10, 11, 12, 13], "room written but not counted is not in the buffer")
        append([4], to: buffer)
        XCTAssertEqual(contents(buffer), [1, 2, 3, 10, 11, 12, 13, 4])
        let fresh = ByteBuffer()
        _ = fresh.tail(reserving: 0)  // no room asked for, on a buffer with no storage yet
        fresh.grow(by: 0)
        XCTAssertTrue(fresh.isEmpty)
    }

    func testAppendingNothingChangesNothing() {
        let buffer = ByteBuffer()
        append([1, 2, 3], to: buffer)
        append([], to: buffer)
        buffer.append(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(contents(buffer), [1, 2, 3])
    }

    func testRemoveAllEmptiesAndTheBufferIsReusable() {
        let buffer = ByteBuffer()
        append(Array(repeating: 0xAA, count: 1000), to: buffer)
        buffer.removeAll()
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(contents(buffer), [])
        append([1, 2, 3], to: buffer)
        XCTAssertEqual(contents(buffer), [1, 2, 3], "new bytes start at the beginning, nothing old shows")
        append(Array(repeating: 7, count: 2000), to: buffer)
        XCTAssertEqual(contents(buffer), [1, 2, 3] + Array(repeating: 7, count: 2000))
    }

    func testAppendingItsOwnBytesIntoASpareBuffer() {
        // The echo service moves a partial tail between two buffers like this.
        let carry = ByteBuffer()
        let spare = ByteBuffer()
        append(Array("partial".utf8), to: spare)
        carry.append(spare.bytes)
        spare.removeAll()
        XCTAssertEqual(String(decoding: carry.bytes, as: UTF8.self), "partial")
        XCTAssertTrue(spare.isEmpty)
    }
}
