import Channel
import Posix

/// The vocabulary of `WorkerTable`: its policy, the states a worker goes through, the actions it
/// asks for and the reports it gives. The rules that use them are in `WorkerTable.swift`.
extension WorkerTable {
    public struct Policy: Sendable {
        /// A worker silent this long is killed.
        public var timeout: Duration
        /// Time a retiring worker gets to finish its work.
        public var gracefulTimeout: Duration
        /// Time workers get after a fast shutdown (QUIT) before SIGKILL.
        public var fastTimeout: Duration = .seconds(1)
        /// Time a worker gets after its own drain deadline to cut what is left and exit before
        /// SIGKILL: the worker and the master watch the same deadline, and a kill at that very
        /// instant would race the worker's own orderly cut (and its log line saying so).
        public var cutMargin: Duration = .seconds(1)
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
        /// Replaced for its memory (`--max-worker-memory`): `recycle(pid:now:reason: .memory)`.
        case memory = "max-worker-memory"
    }

    /// Why a worker was replaced, as the metrics and `supervisor status` count it.
    public enum RestartReason: String, Sendable, CaseIterable {
        /// It died on its own (or failed to boot).
        case crash
        /// Killed for a missed heartbeat (or a boot that took too long).
        case timeout
        /// Replaced after its `--max-requests`.
        case recycle
        /// Replaced for its memory.
        case memory
        /// Replaced by a reload's new generation.
        case reload
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
        /// Health checks in a row that found it above `--max-worker-memory` (WorkerTable+Memory).
        public internal(set) var memoryStrikes = 0
        /// Why it is being recycled (`max-requests` or `memory`), once `recycling`.
        public internal(set) var recycleReason: QuitReason = .recycle
        /// Why it was asked to quit, once `retiring`.
        public internal(set) var quitReason: QuitReason?

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
}
