import Channel
import Posix
import Settings

/// The master's knowledge of its workers, as a pure state machine.
///
/// Events go in (`spawned`, `ready`, `heartbeat`, `reaped`, `reload`, `scale`, `shutdown`, `tick`, `memoryChecked`),
/// and `Action`s come out for the master to carry out. No process, clock or socket is touched here:
/// the clock is an argument, so every rule (back-off, timeouts, readiness-gated replacement) is
/// unit-tested with a fake one.
///
/// The model: `desired` slots, numbered from 0. A slot is served by the worker of the current
/// generation; workers of older generations (before a reload) keep serving until the current
/// generation's worker in their slot reports ready, and are then asked to quit. Every event ends in
/// `reconcile`, which compares what is to what should be, like unicorn's `maintain_worker_count`.
public struct WorkerTable {
    /// Settable so a reload's new timeouts apply from the next deadline computed.
    public var policy: Policy
    public private(set) var phase: Phase = .serving
    public private(set) var generation = 1
    /// Internal setter: the memory rule (WorkerTable+Memory) marks workers too.
    public internal(set) var workers: [ProcessID: Worker] = [:]
    var slots: [Slot]
    /// True once any worker has reported ready: after that, a boot failure is a bad reload, not a
    /// server that can never start.
    public private(set) var everReady = false
    /// Workers replaced after an exit nobody asked for (crash or kill).
    public private(set) var restarts = 0
    /// Every replacement by its reason (reloads and recycles included), for the metrics.
    public private(set) var restartsByReason: [RestartReason: UInt64] = [:]
    /// Counters of workers that are gone, so totals never go backwards.
    public private(set) var departedRequests: UInt64 = 0
    public private(set) var departedAccepted: UInt64 = 0

    public init(workers: Int, policy: Policy) {
        precondition(workers >= 1, "the worker count is validated before the table is built")
        self.policy = policy
        slots = Array(repeating: Slot(), count: workers)
    }

    public var desired: Int { slots.count }

    /// Workers that are up and not being retired.
    public var servingCount: Int { workers.values.filter(\.isServing).count }

    /// Slots waiting out a crash back-off.
    public var crashLoopingSlots: Int { slots.filter { $0.crashStreak >= 2 && $0.nextSpawnAt != nil }.count }

    // MARK: Events

    /// The master forked a worker for `slot`.
    public mutating func spawned(pid: ProcessID, slot: Int, generation: Int, now: Instant) {
        workers[pid] = Worker(pid: pid, slot: slot, generation: generation, spawnedAt: now, lastSeen: now)
        if slot < slots.count { slots[slot].nextSpawnAt = nil; slots[slot].spawnRequested = false }
    }

    /// `fork` itself failed: back off as for a crash.
    public mutating func spawnFailed(slot: Int, now: Instant) -> [Action] {
        if slot < slots.count {
            slots[slot].spawnRequested = false
            recordQuickDeath(slot: slot, now: now)
        }
        return reconcile(now: now)
    }

    public mutating func ready(pid: ProcessID, now: Instant) -> [Action] {
        guard var worker = workers[pid] else { return [] }
        worker.lastSeen = now
        if worker.state == .booting {
            worker.state = .ready
            worker.readyAt = now
            everReady = true
        }
        workers[pid] = worker
        return reconcile(now: now)
    }

    public mutating func heartbeat(pid: ProcessID, stats: WorkerStats, now: Instant) {
        guard var worker = workers[pid] else { return }
        worker.lastSeen = now
        worker.stats = stats
        workers[pid] = worker
    }

    /// A child was reaped. Returns what to log and what to do next.
    public mutating func reaped(pid: ProcessID, status: ExitStatus, now: Instant) -> (ExitReport?, [Action]) {
        guard let worker = workers.removeValue(forKey: pid) else { return (nil, reconcile(now: now)) }
        departedRequests &+= worker.stats.requests
        departedAccepted &+= worker.stats.connectionsAccepted

        let cause: ExitReport.Cause
        switch worker.state {
        case .retiring: cause = .retired
        case let .killed(reason): cause = .killed(reason)
        case .booting, .ready:
            cause = status == .exited(code: WorkerExitCode.bootFailure) ? .bootFailure : .crashed
        }
        if case .serving = phase, let reason = Self.restartReason(cause, quit: worker.quitReason) {
            restartsByReason[reason, default: 0] += 1
        }

        var delay: Duration?
        var streak = 0
        if case .serving = phase, cause != .retired {
            if cause == .bootFailure && !everReady {
                // The service cannot start at all: forking it again would loop forever.
                phase = .stopping(.immediate, killAt: now, exitCode: 1)
                return (ExitReport(worker: worker, status: status, cause: cause, respawnDelay: nil, crashStreak: 0), reconcile(now: now))
            }
            if worker.slot < slots.count && worker.generation == generation {
                restarts += 1
                let stable = worker.readyAt != nil && now.since(worker.spawnedAt) >= policy.stableAfter
                if stable {
                    slots[worker.slot].crashStreak = 0
                } else {
                    recordQuickDeath(slot: worker.slot, now: now)
                }
                streak = slots[worker.slot].crashStreak
                delay = slots[worker.slot].nextSpawnAt.map { $0.since(now) }
            }
        }
        let report = ExitReport(worker: worker, status: status, cause: cause, respawnDelay: delay, crashStreak: streak)
        return (report, reconcile(now: now))
    }

    /// SIGHUP: a new generation replaces every worker, each old one retiring only once its
    /// successor is ready. `workers`, when given, is the new slot count (a reloaded config), set
    /// before anything is spawned so no worker is started for a slot about to go.
    public mutating func reload(now: Instant, workers count: Int? = nil) -> [Action] {
        guard case .serving = phase else { return [] }
        generation += 1
        if let count, count >= 1, count != slots.count {
            if count > slots.count {
                slots.append(contentsOf: repeatElement(Slot(), count: count - slots.count))
            } else {
                slots.removeLast(slots.count - count)
            }
        }
        for index in slots.indices where !slots[index].spawnRequested {
            slots[index].nextSpawnAt = nil
            slots[index].crashStreak = 0
        }
        return reconcile(now: now)
    }

    /// A worker reached its `--max-requests`: replace it like a reload replaces a generation, its
    /// successor first. Ignored for a worker that is not serving, or while shutting down.
    /// `reason` is `.recycle` (`--max-requests`) or `.memory` (`--max-worker-memory`); it is what
    /// the worker's retirement and the restart count say.
    public mutating func recycle(pid: ProcessID, now: Instant, reason: QuitReason = .recycle) -> [Action] {
        guard case .serving = phase, let worker = workers[pid], worker.isServing, !worker.recycling else { return [] }
        workers[pid]?.recycling = true
        workers[pid]?.recycleReason = reason
        return reconcile(now: now)
    }

    /// The restart a departure counts as, if any: a retirement for a shutdown or a scale-down
    /// replaces nobody, and neither does a kill at the end of a stop.
    static func restartReason(_ cause: ExitReport.Cause, quit: QuitReason?) -> RestartReason? {
        switch cause {
        case .crashed, .bootFailure: return .crash
        case .killed(.timeout), .killed(.bootTimeout): return .timeout
        case .killed(.immediate): return nil
        case .retired, .killed(.gracefulTimeout):
            switch quit {
            case .reload?: return .reload
            case .recycle?: return .recycle
            case .memory?: return .memory
            case .shutdown?, .scaleDown?, nil: return nil
            }
        }
    }

    /// True when every slot is served by a ready worker of the current generation and no older or
    /// recycling worker still serves: a start, reload or recycle has fully taken effect.
    public var isSettled: Bool {
        guard case .serving = phase else { return false }
        let serving = workers.values.filter(\.isServing)
        guard serving.allSatisfy({ $0.generation == generation && $0.state == .ready && !$0.recycling && $0.slot < slots.count }) else { return false }
        return Set(serving.map(\.slot)).count == slots.count
    }

    /// TTIN / TTOU. Never below one worker. Returns nil when the change was refused.
    public mutating func scale(by delta: Int, now: Instant) -> [Action]? {
        guard case .serving = phase else { return nil }
        let target = slots.count + delta
        guard target >= 1, target <= Configuration.maximumWorkers else { return nil }
        if delta > 0 {
            slots.append(contentsOf: repeatElement(Slot(), count: delta))
        } else {
            slots.removeLast(-delta)
        }
        return reconcile(now: now)
    }

    public mutating func shutdown(_ mode: ShutdownMode, now: Instant) -> [Action] {
        var mode = mode
        var exitCode: CInt = 0
        if case let .stopping(current, _, code) = phase {
            exitCode = code
            // A repeated stop signal escalates; it never relaxes a stop already under way.
            switch (current, mode) {
            case (.graceful, .graceful): mode = .immediate
            case (.fast, _), (.immediate, _): mode = .immediate
            default: break
            }
        }
        let killAt: Instant
        let quitDeadline: Instant
        switch mode {
        case .graceful:
            quitDeadline = now + policy.gracefulTimeout
            killAt = quitDeadline + policy.cutMargin
        case .fast:
            killAt = now + policy.fastTimeout
            quitDeadline = now
        case .immediate:
            killAt = now
            quitDeadline = now
        }
        var effectiveKillAt = killAt
        if case let .stopping(_, current, _) = phase { effectiveKillAt = min(current, killAt) }
        phase = .stopping(mode, killAt: effectiveKillAt, exitCode: exitCode)
        var actions: [Action] = []
        if mode != .immediate {
            for pid in workers.keys.sorted() {
                guard let worker = workers[pid] else { continue }
                switch worker.state {
                case .booting, .ready:
                    workers[pid]?.state = .retiring(deadline: quitDeadline)
                    actions.append(.quit(pid: pid, deadline: quitDeadline, reason: .shutdown))
                case let .retiring(deadline) where quitDeadline < deadline:
                    workers[pid]?.state = .retiring(deadline: quitDeadline)
                    actions.append(.quit(pid: pid, deadline: quitDeadline, reason: .shutdown))
                default:
                    break
                }
            }
        }
        return actions + reconcile(now: now)
    }

    /// Timers: heartbeat timeouts, retirement deadlines, back-off expiry, the shutdown deadline.
    public mutating func tick(now: Instant) -> [Action] { reconcile(now: now) }

    /// The earliest instant at which `tick` has something to do.
    public var nextDeadline: Instant? {
        if case let .stopping(_, killAt, _) = phase {
            // Until killAt nothing is due but reaps (which SIGCHLD announces); after it, nothing.
            let waiting = workers.values.contains { if case .killed = $0.state { false } else { true } }
            return waiting ? killAt : nil
        }
        var deadlines = slots.filter { !$0.spawnRequested }.compactMap(\.nextSpawnAt)
        for worker in workers.values {
            switch worker.state {
            case .booting, .ready: deadlines.append(worker.lastSeen + policy.timeout)
            case let .retiring(deadline): deadlines.append(deadline + policy.cutMargin)
            case .killed: break
            }
        }
        return deadlines.min()
    }

    // MARK: Reconciliation

    /// One read-only pass over the workers, then the changes: linear in the worker count, plus a
    /// sort of the workers it acts on (the actions come in pid order within each rule, and slot
    /// order for a slot's own). It runs after every event, so at 1,024 workers a reload's 2,048
    /// `ready`s and reaps must not each sort, or scan, the table more than once.
    mutating func reconcile(now: Instant) -> [Action] {
        if case let .stopping(mode, killAt, exitCode) = phase {
            var actions: [Action] = []
            if now >= killAt {
                let reason: KillReason = mode == .immediate ? .immediate : .gracefulTimeout
                for pid in workers.values.filter({ !$0.state.isKilled }).map(\.pid).sorted() {
                    workers[pid]?.state = .killed(reason)
                    actions.append(.kill(pid: pid, reason: reason))
                }
            }
            if workers.isEmpty { actions.append(.exit(code: exitCode)) }
            return actions
        }

        // What each worker calls for, its state taken as it will be once the overdue are killed.
        var overdue: [(pid: ProcessID, reason: KillReason)] = []
        var inRemovedSlots: [ProcessID] = []
        var older: [Worker] = []
        var currentServes = [Bool](repeating: false, count: slots.count)
        var currentReady = [Bool](repeating: false, count: slots.count)
        // A killed current worker still holds its slot until it is reaped: the back-off for its
        // death is decided then, so a kill-and-respawn loop backs off like a crash loop.
        var awaitingReap = [Bool](repeating: false, count: slots.count)
        for worker in workers.values {
            var killed = worker.state.isKilled
            switch worker.state {
            case .booting, .ready:
                // Silent.
                if now >= worker.lastSeen + policy.timeout {
                    overdue.append((worker.pid, worker.state == .booting ? .bootTimeout : .timeout))
                    killed = true
                }
            case let .retiring(deadline):
                if now >= deadline + policy.cutMargin {
                    overdue.append((worker.pid, .gracefulTimeout))
                    killed = true
                }
            case .killed:
                break
            }
            let serving = worker.isServing && !killed
            guard worker.slot < slots.count else {
                if serving { inRemovedSlots.append(worker.pid) }
                continue
            }
            if killed {
                if worker.generation == generation { awaitingReap[worker.slot] = true }
            } else if serving {
                if worker.generation == generation && !worker.recycling {
                    currentServes[worker.slot] = true
                    if worker.state == .ready { currentReady[worker.slot] = true }
                } else {
                    older.append(worker)
                }
            }
        }

        var actions: [Action] = []
        for (pid, reason) in overdue.sorted(by: { $0.pid < $1.pid }) {
            workers[pid]?.state = .killed(reason)
            actions.append(.kill(pid: pid, reason: reason))
        }
        for pid in inRemovedSlots.sorted() {
            actions.append(retire(pid, now: now, reason: .scaleDown))
        }
        // Older and recycling workers retire once their slot's current worker is ready.
        let replaced = older.filter { currentReady[$0.slot] }.sorted { ($0.slot, $0.pid) < ($1.slot, $1.pid) }
        var nextReplaced = replaced.startIndex
        for slot in slots.indices {
            if currentServes[slot] {
                while nextReplaced < replaced.endIndex, replaced[nextReplaced].slot == slot {
                    let old = replaced[nextReplaced]
                    actions.append(retire(old.pid, now: now, reason: old.recycling ? old.recycleReason : .reload))
                    nextReplaced += 1
                }
                continue
            }
            guard !awaitingReap[slot], !slots[slot].spawnRequested else { continue }
            if let due = slots[slot].nextSpawnAt, now < due { continue }
            actions.append(.spawn(slot: slot, generation: generation))
            slots[slot].spawnRequested = true
        }
        return actions
    }

    private mutating func retire(_ pid: ProcessID, now: Instant, reason: QuitReason) -> Action {
        let deadline = now + policy.gracefulTimeout
        workers[pid]?.state = .retiring(deadline: deadline)
        workers[pid]?.quitReason = reason
        return .quit(pid: pid, deadline: deadline, reason: reason)
    }

    private mutating func recordQuickDeath(slot: Int, now: Instant) {
        slots[slot].crashStreak += 1
        let streak = slots[slot].crashStreak
        if streak <= 1 {
            slots[slot].nextSpawnAt = nil
            return
        }
        var delay = policy.backoffBase
        for _ in 0..<min(streak - 2, 16) { delay = min(delay * 2, policy.backoffCap) }
        slots[slot].nextSpawnAt = now + min(delay, policy.backoffCap)
    }
}
