import Channel
import Posix
import Settings

/// The master's knowledge of its workers, as a pure state machine.
///
/// Events go in (`spawned`, `ready`, `heartbeat`, `reaped`, `reload`, `scale`, `shutdown`, `tick`),
/// and `Action`s come out for the master to carry out. No process, clock or socket is touched here:
/// the clock is an argument, so every rule (back-off, timeouts, readiness-gated replacement) is
/// unit-tested with a fake one.
///
/// The model: `desired` slots, numbered from 0. A slot is served by the worker of the current
/// generation; workers of older generations (before a reload) keep serving until the current
/// generation's worker in their slot reports ready, and are then asked to quit. Every event ends in
/// `reconcile`, which compares what is to what should be, like unicorn's `maintain_worker_count`.
public struct WorkerTable {
    public struct Policy: Sendable {
        /// A worker silent this long is killed.
        public var timeout: Duration
        /// Time a retiring worker gets to finish its work.
        public var gracefulTimeout: Duration
        /// Time workers get after a fast shutdown (QUIT) before SIGKILL.
        public var fastTimeout: Duration = .seconds(1)
        /// First delay after repeated quick deaths; doubles each time, up to `backoffCap`.
        public var backoffBase: Duration = .seconds(1)
        public var backoffCap: Duration = .seconds(30)
        /// A worker that was ready and lived at least this long did not die "soon after start".
        public var stableAfter: Duration = .seconds(5)

        public init(timeout: Duration, gracefulTimeout: Duration) {
            self.timeout = timeout
            self.gracefulTimeout = gracefulTimeout
        }
    }

    public enum State: Equatable, Sendable {
        case booting
        case ready
        /// Asked to quit by `deadline`.
        case retiring(deadline: Instant)
        /// Sent SIGKILL; waiting to be reaped.
        case killed(KillReason)

        var isKilled: Bool { if case .killed = self { true } else { false } }
    }

    public enum KillReason: String, Sendable {
        case timeout
        case bootTimeout = "boot-timeout"
        case gracefulTimeout = "graceful-timeout"
        case immediate
    }

    public enum QuitReason: String, Sendable {
        case shutdown, reload, scaleDown = "scale-down", recycle = "max-requests"
    }

    public struct Worker: Equatable, Sendable {
        public let pid: ProcessID
        public let slot: Int
        public let generation: Int
        public let spawnedAt: Instant
        public internal(set) var state: State = .booting
        public internal(set) var readyAt: Instant?
        public internal(set) var lastSeen: Instant
        public internal(set) var stats = WorkerStats()
        /// It served its `--max-requests`: a successor is started in its slot, and it retires once
        /// that one is ready.
        public internal(set) var recycling = false

        public var isServing: Bool { state == .booting || state == .ready }
    }

    public enum Action: Equatable, Sendable {
        case spawn(slot: Int, generation: Int)
        case quit(pid: ProcessID, deadline: Instant, reason: QuitReason)
        case kill(pid: ProcessID, reason: KillReason)
        /// Every worker is gone after a shutdown: exit with this code.
        case exit(code: CInt)
    }

    public enum ShutdownMode: String, Sendable {
        /// INT/TERM: finish in-flight work within the graceful timeout.
        case graceful
        /// QUIT: close everything now; SIGKILL after the fast timeout.
        case fast
        /// A second INT/TERM: SIGKILL now.
        case immediate
    }

    public enum Phase: Equatable, Sendable {
        case serving
        case stopping(ShutdownMode, killAt: Instant, exitCode: CInt)
    }

    /// Why a reaped worker ended, for the log line and the restart count.
    public struct ExitReport: Equatable, Sendable {
        public enum Cause: Equatable, Sendable {
            /// It was asked to quit and did.
            case retired
            /// It was killed by the master.
            case killed(KillReason)
            /// It died on its own.
            case crashed
            /// It exited with the boot-failure code.
            case bootFailure
        }

        public let worker: Worker
        public let status: ExitStatus
        public let cause: Cause
        /// When a replacement is due, if one is (nil: none, or at once).
        public let respawnDelay: Duration?
        /// Consecutive quick deaths in this slot, including this one.
        public let crashStreak: Int
    }

    struct Slot: Equatable {
        var crashStreak = 0
        /// Back-off: no spawn for this slot before this instant.
        var nextSpawnAt: Instant?
        /// A spawn was asked for and the master has not reported it yet.
        var spawnRequested = false
    }

    /// Settable so a reload's new timeouts apply from the next deadline computed.
    public var policy: Policy
    public private(set) var phase: Phase = .serving
    public private(set) var generation = 1
    public private(set) var workers: [ProcessID: Worker] = [:]
    var slots: [Slot]
    /// True once any worker has reported ready: after that, a boot failure is a bad reload, not a
    /// server that can never start.
    public private(set) var everReady = false
    /// Workers replaced after an exit nobody asked for (crash or kill).
    public private(set) var restarts = 0
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
    public mutating func recycle(pid: ProcessID, now: Instant) -> [Action] {
        guard case .serving = phase, let worker = workers[pid], worker.isServing, !worker.recycling else { return [] }
        workers[pid]?.recycling = true
        return reconcile(now: now)
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
            killAt = now + policy.gracefulTimeout
            quitDeadline = killAt
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
            case let .retiring(deadline): deadlines.append(deadline)
            case .killed: break
            }
        }
        return deadlines.min()
    }

    // MARK: Reconciliation

    mutating func reconcile(now: Instant) -> [Action] {
        var actions: [Action] = []
        let pids = workers.keys.sorted()

        if case let .stopping(mode, killAt, exitCode) = phase {
            if now >= killAt {
                let reason: KillReason = mode == .immediate ? .immediate : .gracefulTimeout
                for pid in pids {
                    if case .killed = workers[pid]?.state { continue }
                    workers[pid]?.state = .killed(reason)
                    actions.append(.kill(pid: pid, reason: reason))
                }
            }
            if workers.isEmpty { actions.append(.exit(code: exitCode)) }
            return actions
        }

        // Silent workers and overdue retirements.
        for pid in pids {
            guard let worker = workers[pid] else { continue }
            switch worker.state {
            case .booting, .ready:
                if now >= worker.lastSeen + policy.timeout {
                    let reason: KillReason = worker.state == .booting ? .bootTimeout : .timeout
                    workers[pid]?.state = .killed(reason)
                    actions.append(.kill(pid: pid, reason: reason))
                }
            case let .retiring(deadline):
                if now >= deadline {
                    workers[pid]?.state = .killed(.gracefulTimeout)
                    actions.append(.kill(pid: pid, reason: .gracefulTimeout))
                }
            case .killed:
                break
            }
        }

        // Workers of removed slots retire.
        for pid in pids {
            guard let worker = workers[pid], worker.isServing, worker.slot >= slots.count else { continue }
            actions.append(retire(pid, now: now, reason: .scaleDown))
        }

        // One pass over the workers, grouped by slot in pid order, rather than a scan per slot.
        var servingBySlot = [[Worker]](repeating: [], count: slots.count)
        // A killed current worker still holds its slot until it is reaped: the back-off for its
        // death is decided then, so a kill-and-respawn loop backs off like a crash loop.
        var awaitingReapBySlot = [Bool](repeating: false, count: slots.count)
        for pid in pids {
            guard let worker = workers[pid], worker.slot < slots.count else { continue }
            if worker.isServing { servingBySlot[worker.slot].append(worker) }
            if worker.generation == generation && worker.state.isKilled { awaitingReapBySlot[worker.slot] = true }
        }
        for slot in slots.indices {
            let serving = servingBySlot[slot]
            let current = serving.filter { $0.generation == generation && !$0.recycling }
            let awaitingReap = awaitingReapBySlot[slot]
            if current.isEmpty {
                guard !awaitingReap, !slots[slot].spawnRequested else { continue }
                if let due = slots[slot].nextSpawnAt, now < due { continue }
                actions.append(.spawn(slot: slot, generation: generation))
                slots[slot].spawnRequested = true
            } else if current.contains(where: { $0.state == .ready }) {
                for old in serving where old.generation < generation || old.recycling {
                    actions.append(retire(old.pid, now: now, reason: old.recycling ? .recycle : .reload))
                }
            }
        }
        return actions
    }

    private mutating func retire(_ pid: ProcessID, now: Instant, reason: QuitReason) -> Action {
        let deadline = now + policy.gracefulTimeout
        workers[pid]?.state = .retiring(deadline: deadline)
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
