/// A process's memory as `/proc/PID/smaps_rollup` (Linux 4.14) sums it over all its mappings.
///
/// For recycling by memory (`--max-worker-memory`) what counts is the unshared part: a forked
/// worker's RSS includes every page it still shares, copy-on-write, with the master and its
/// siblings, so RSS would blame the wrong worker (puma_worker_killer#14). USS, the pages only this
/// process maps (`Private_Clean + Private_Dirty`), is what its exit would give back.
public struct MemoryRollup: Equatable, Sendable {
    public var residentBytes: UInt64?
    public var proportionalBytes: UInt64?
    public var privateCleanBytes: UInt64?
    public var privateDirtyBytes: UInt64?

    public init(residentBytes: UInt64? = nil, proportionalBytes: UInt64? = nil,
                privateCleanBytes: UInt64? = nil, privateDirtyBytes: UInt64? = nil) {
        self.residentBytes = residentBytes
        self.proportionalBytes = proportionalBytes
        self.privateCleanBytes = privateCleanBytes
        self.privateDirtyBytes = privateDirtyBytes
    }

    /// The unique set size, USS: nil unless both private fields were there.
    public var uniqueBytes: UInt64? {
        guard let clean = privateCleanBytes, let dirty = privateDirtyBytes else { return nil }
        return clean &+ dirty
    }

    /// Parses the file's text: `Name:   1234 kB` lines; the header line (an address range) and
    /// fields it does not know are skipped. A known field whose value is not a number of kB is
    /// treated as missing, never guessed. Nil when no known field was found.
    public init?(parsing text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon]
            let value = Self.kilobytes(line[line.index(after: colon)...])
            switch name {
            case "Rss": residentBytes = value
            case "Pss": proportionalBytes = value
            case "Private_Clean": privateCleanBytes = value
            case "Private_Dirty": privateDirtyBytes = value
            default: continue
            }
        }
        if self == MemoryRollup() { return nil }
    }

    /// `   1234 kB` → 1234 × 1024; nil for anything else, or a figure past 2^54 kB.
    static func kilobytes(_ text: Substring) -> UInt64? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, words[1] == "kB", words[0].count <= 16,
              words[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = UInt64(words[0]) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1024)
        return overflow ? nil : bytes
    }

    /// Reads `/proc/<pid>/smaps_rollup`. Throws when it cannot be read (the process is gone, an
    /// older kernel, a `/proc` mounted with `hidepid`); nil when its text has none of the fields.
    public static func read(pid: ProcessID) throws(SystemError) -> MemoryRollup? {
        MemoryRollup(parsing: try TextFile.read("/proc/\(pid)/smaps_rollup", limit: 64 * 1024))
    }
}
