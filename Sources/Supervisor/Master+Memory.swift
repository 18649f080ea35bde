import Logging
import Posix

/// `--max-worker-memory`: measure at each health check, and replace a worker the table finds over
/// the limit two checks in a row.
extension Master {
    func checkMemoryIfDue(now: Instant) {
        memoryWatch.arm(limit: config.maxWorkerMemory, interval: config.memoryCheckInterval, now: now)
        guard memoryWatch.isDue(now) else { return }
        let serving = table.workers.values.filter(\.isServing).map(\.pid).sorted()
        guard let samples = memoryWatch.sampleIfDue(serving, interval: config.memoryCheckInterval, now: now, logger: logger) else { return }
        let limit = UInt64(config.maxWorkerMemory)
        let (verdict, actions) = table.memoryChecked(samples, limit: limit, now: now)
        if let verdict {
            logger.warn("worker over memory limit", ("pid", LogValue(verdict.worker.pid)), ("slot", LogValue(verdict.worker.slot)),
                        ("uss_bytes", LogValue(verdict.uniqueBytes)), ("limit_bytes", LogValue(limit)), ("checks", LogValue(verdict.worker.memoryStrikes)),
                        ("action", "replace"))
        }
        perform(actions)
    }
}
