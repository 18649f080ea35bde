import CLinux

/// The C heap (glibc's malloc, which Swift allocates from): what it holds free, and giving that
/// back to the kernel.
///
/// `free` returns memory to the kernel only from the top of the heap, and only when the top free
/// block passes `M_TRIM_THRESHOLD`. After a burst (a thousand connections with their tasks and
/// buffers, then gone) the freed blocks lie between ones still in use, so the heap keeps its peak
/// size and RSS with it: a worker that served c=1000 of 13 MB files kept 12 MB of free heap
/// resident. `malloc_trim(0)` hands the whole free pages inside those blocks back
/// (`MADV_DONTNEED`): the memory is really returned, and a later allocation faults it in again.
/// Under another allocator (jemalloc by `LD_PRELOAD`, AddressSanitizer's) both calls see glibc's
/// own arena, unused: nothing to give back, and no harm.
public enum Heap {
    /// Bytes malloc holds free in all its arenas, whether their pages are resident or were given
    /// back already (`mallinfo2().fordblks`: the free chunks, fast bins and each arena's top
    /// included). Walks the free lists: cheap, but not for a hot path.
    public static var freeBytes: Int {
        Int(clamping: mallinfo2().fordblks)
    }

    /// Gives every whole free page of every arena back to the kernel (`malloc_trim(0)`). Costs
    /// one `madvise` per free block that spans a page, and the page faults of reusing them; call
    /// it after a burst, not per request. True when some memory was given back.
    @discardableResult
    public static func giveBackFreePages() -> Bool {
        malloc_trim(0) == 1
    }
}
