import Posix

/// `--max-worker-memory`: the rule that replaces a worker whose unshared memory stays too high.
extension WorkerTable {
    /// A worker to replace for its memory, with the figure that decided it.
    public struct MemoryVerdict: Equatable, Sendable {
        public let worker: Worker
        public let uniqueBytes: UInt64
    }

    /// One health check measured the workers' USS (`samples`; a worker whose reading failed is
    /// absent). A worker above `limit` for two checks in a row is recycled like one past its
    /// `--max-requests`: its successor first, and it retires once that one is ready. One at a time:
    /// while any worker is being recycled, or a start or reload has not settled, nobody else is
    /// (its strikes are kept, so it goes next). Of several over the limit, the largest goes first.
    public mutating func memoryChecked(_ samples: [ProcessID: UInt64], limit: UInt64, now: Instant) -> (MemoryVerdict?, [Action]) {
        guard case .serving = phase else { return (nil, []) }
        for (pid, worker) in workers where worker.isServing && !worker.recycling {
            // A missing reading breaks the row: never replace a worker on one figure.
            if let bytes = samples[pid], bytes > limit {
                workers[pid]?.memoryStrikes += 1
            } else {
                workers[pid]?.memoryStrikes = 0
            }
        }
        guard isSettled else { return (nil, []) }
        let candidates = workers.values.filter { $0.isServing && !$0.recycling && $0.memoryStrikes >= 2 }
        guard let chosen = candidates.max(by: { (samples[$0.pid] ?? 0, $1.slot) < (samples[$1.pid] ?? 0, $0.slot) }) else { return (nil, []) }
        let actions = recycle(pid: chosen.pid, now: now, reason: .memory)
        return (MemoryVerdict(worker: chosen, uniqueBytes: samples[chosen.pid] ?? 0), actions)
    }
}
