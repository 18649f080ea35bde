import Logging
import Posix

/// When the master next measures its workers' memory for `--max-worker-memory`, and which workers'
/// readings failed already (warned about once each, not at every check).
struct MemoryWatch {
    private(set) var nextAt: Instant?
    private var unreadable: Set<ProcessID> = []

    /// Armed (or disarmed) from the configuration in force, at start and after a reload.
    mutating func arm(limit: Int, interval: Duration, now: Instant) {
        if limit <= 0 {
            nextAt = nil
        } else if nextAt == nil {
            nextAt = now + interval
        }
    }

    func isDue(_ now: Instant) -> Bool { nextAt.map { now >= $0 } ?? false }

    /// The workers' USS now, if a check is due; a reading that fails is logged once per worker and
    /// left out, so one unreadable `/proc` entry never stops the others' checks or the master.
    mutating func sampleIfDue(_ pids: [ProcessID], interval: Duration, now: Instant, logger: Logger) -> [ProcessID: UInt64]? {
        guard let due = nextAt, now >= due else { return nil }
        nextAt = now + interval
        unreadable.formIntersection(pids)
        var samples: [ProcessID: UInt64] = [:]
        for pid in pids {
            do {
                guard let bytes = try MemoryRollup.read(pid: pid)?.uniqueBytes else {
                    warnOnce(pid, logger, ("error", "no Private_Clean/Private_Dirty in smaps_rollup"))
                    continue
                }
                samples[pid] = bytes
            } catch {
                warnOnce(pid, logger, ("error", LogValue(error)))
            }
        }
        return samples
    }

    private mutating func warnOnce(_ pid: ProcessID, _ logger: Logger, _ error: (String, LogValue)) {
        guard unreadable.insert(pid).inserted else { return }
        logger.warn("cannot read worker memory; not checked against --max-worker-memory", ("pid", LogValue(pid)), error)
    }
}
