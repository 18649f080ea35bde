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
    /// The entry last found or inserted, looked at before the dictionary: a hot file then costs
    /// one string comparison (two words for a short name) instead of hashing its name, ~500
    /// instructions a request (callgrind). Always the same entry as `entries[name]`, or nil.
    @exclusivity(unchecked) private var recent: (name: String, entry: Entry)?

    init(capacity: Int = 1024, validity: Duration = .seconds(1)) {
        self.capacity = capacity
        self.validity = validity
    }

    func lookup(_ name: String) -> Entry? {
        let entry: Entry
        if let recent, recent.name == name {
            entry = recent.entry
        } else {
            guard let found = entries[name] else { return nil }
            entry = found
            recent = (name, found)
        }
        if entry.expires > EventLoop.current.now { return entry }
        remove(name)
        return nil
    }

    /// The entry last found or inserted when `segment`, a raw path segment not yet decoded, spells
    /// its name byte for byte with no escape (`FileName.isSpelled`), and it has not expired: a hot
    /// file's request then builds no `FileName` (a string, and a check of it: ~100 instructions).
    func recentEntry(spelledBy segment: Substring) -> Entry? {
        guard let recent, FileName.isSpelled(recent.name, bySegment: segment), recent.entry.expires > EventLoop.current.now else { return nil }
        return recent.entry
    }

    func insert(_ name: String, _ representation: FileServer.Representation) {
        if entries.count >= capacity, let victim = entries.keys.first { remove(victim) }
        remove(name)
        let entry = Entry(representation: representation, expires: EventLoop.current.now &+ UInt64(validity.nanoseconds))
        entries[name] = entry
        recent = (name, entry)
    }

    func invalidate(_ name: String) { remove(name) }

    private func remove(_ name: String) {
        entries.removeValue(forKey: name)
        if recent?.name == name { recent = nil }
    }
}
