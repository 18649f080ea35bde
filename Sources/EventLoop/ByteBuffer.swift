import Glibc

/// A growable byte buffer whose storage stays put between mutations, so its bytes can be handed to
/// a syscall, even across the synchronous part of an async write. Grows by doubling; never shrinks
/// (a connection keeps the buffer its largest partial line needed).
public final class ByteBuffer {
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) private var capacity = 0
    @exclusivity(unchecked) private var storage: UnsafeMutableRawPointer?

    public init() {}

    deinit { free(storage) }

    public var isEmpty: Bool { count == 0 }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    public func append(_ source: UnsafeRawBufferPointer) {
        guard !source.isEmpty else { return }
        reserve(count + source.count)
        storage.map { ($0 + count).copyMemory(from: source.baseAddress!, byteCount: source.count) }
        count += source.count
    }

    public func removeAll() { count = 0 }

    /// Room for `capacity` more bytes after what is there, to write straight into (then
    /// `grow(by:)` with what was written): many small pieces at the cost of one call. Not a
    /// closure, as it was: a closure passed to another module has its captures copied into its
    /// context, a retain and a release each (nine per response head).
    public func tail(reserving capacity: Int) -> UnsafeMutableRawPointer {
        reserve(max(count + capacity, 1))  // some storage even for no room: a pointer to return
        guard let storage else { preconditionFailure("a ByteBuffer with no storage after reserving \(capacity) bytes") }
        return storage + count
    }

    /// Counts `written` bytes put into `tail(reserving:)`'s room as part of the buffer.
    public func grow(by written: Int) {
        precondition(written >= 0 && count + written <= capacity, "wrote \(written) bytes past a ByteBuffer's reserved room")
        count += written
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        var newCapacity = max(capacity, 256)
        while newCapacity < needed { newCapacity *= 2 }
        guard let grown = realloc(storage, newCapacity) else { preconditionFailure("out of memory growing a \(capacity)-byte buffer") }
        storage = grown
        capacity = newCapacity
    }
}
