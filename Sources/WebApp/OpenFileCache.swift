import EventLoop

/// Recently opened files of a worker, so a hot file costs no trip to the blocking pool (nginx's
/// `open_file_cache`): the descriptor, what `fstat` said, and for small files the bytes themselves,
/// which then go out in the same write as the response head.
///
/// An entry is trusted for `validity` (1 s): a file replaced by another worker's upload is seen
/// within that time; one replaced by this worker's upload at once (`invalidate`). A response holds
/// the entry's `OpenFile`, so evicting an entry never closes a file under a response: the
/// descriptor closes when the last of them lets go.
@LoopActor
final class OpenFileCache {
    struct Entry {
        let representation: FileServer.Representation
        let expires: UInt64
    }

    nonisolated static let smallFileLimit = 16 * 1024
    let capacity: Int
    let validity: Duration
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) private var entries: [String: Entry] = [:]

    init(capacity: Int = 1024, validity: Duration = .seconds(1)) {
        self.capacity = capacity
        self.validity = validity
    }

    func lookup(_ name: String) -> Entry? {
        guard let entry = entries[name] else { return nil }
        if entry.expires > EventLoop.current.now { return entry }
        remove(name)
        return nil
    }

    func insert(_ name: String, _ representation: FileServer.Representation) {
        if entries.count >= capacity, let victim = entries.keys.first { remove(victim) }
        remove(name)
        entries[name] = Entry(representation: representation, expires: EventLoop.current.now &+ UInt64(validity.nanoseconds))
    }

    func invalidate(_ name: String) { remove(name) }

    private func remove(_ name: String) {
        entries.removeValue(forKey: name)
    }
}
