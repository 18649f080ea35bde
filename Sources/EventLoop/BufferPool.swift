/// Buffers of one size, lent to connections only while they have bytes in hand: an idle keep-alive
/// connection gives its buffer back and takes one when its next request arrives (nginx frees an
/// idle connection's buffers the same way). Recycling keeps the hot path free of `malloc`; the free
/// list is capped, so the buffers of a burst are given back to the system once it is over.
///
/// Touched only on the loop thread.
public final class BufferPool {
    public let size: Int
    /// Buffers kept for reuse at most; one given back beyond it is freed.
    public let retained: Int
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) private var free: [UnsafeMutableRawPointer] = []
    /// Buffers lent and not given back yet.
    @exclusivity(unchecked) public private(set) var lent = 0

    public init(size: Int, retained: Int) {
        self.size = size
        self.retained = retained
        free.reserveCapacity(retained)
    }

    deinit {
        for buffer in free { buffer.deallocate() }
    }

    /// How many buffers wait in the free list.
    public var idle: Int { free.count }

    /// A buffer of `size` bytes: a recycled one, or a new one when none is free.
    @inline(__always)
    public func take() -> UnsafeMutableRawBufferPointer {
        lent += 1
        let start = free.popLast() ?? .allocate(byteCount: size, alignment: 16)
        return UnsafeMutableRawBufferPointer(start: start, count: size)
    }

    /// Takes back a buffer `take()` lent; its contents are not kept.
    @inline(__always)
    public func give(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let start = buffer.baseAddress else { return }
        precondition(buffer.count == size, "a \(buffer.count)-byte buffer given to a pool of \(size)-byte ones")
        lent -= 1
        if free.count < retained { free.append(start) } else { start.deallocate() }
    }
}
