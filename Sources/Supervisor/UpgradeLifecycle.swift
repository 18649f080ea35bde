import Posix

/// A master's part in binary upgrades (USR2), as a value: events in, `Action`s out, the clock an
/// argument, like `WorkerTable`. No process, pipe or clock is touched here, so every order of
/// events (an EOF before the reap or after it, a second USR2, a stop half-way) is unit-tested.
///
/// The old master's side: `idle` → `starting` (the new master forked; `readyTimeout` to write to
/// its ready pipe) → `handedOver` (it did: this master drains its workers and exits) or
/// `abandoned` (it closed the pipe, or was too slow: told to go, SIGKILL after `exitTimeout`, and
/// this master serves on) → `idle` again once it is reaped. A stop while one is `starting` or
/// `abandoned` leads to `cancelled`: a stopping server must not be taken over. A master that was
/// itself started by an upgrade begins in `takingOver`, until its first generation is ready.
struct UpgradeLifecycle {
    struct Policy: Equatable {
        /// How long a new master may take to have every worker ready.
        var readyTimeout = BinaryUpgrade.readyTimeout
        /// How long a new master that failed before it was ready gets to exit after SIGTERM.
        var exitTimeout = BinaryUpgrade.exitTimeout
    }

    enum State: Equatable {
        /// Started by an upgrade: the old master serves until our first generation is ready.
        case takingOver(BinaryUpgrade.Origin)
        /// In charge, and no upgrade under way.
        case idle
        /// A new master was forked; it has until `deadline` to report on `readyPipe`.
        case starting(pid: ProcessID, readyPipe: FileDescriptor, deadline: Instant)
        /// The new master failed before it was ready and was sent SIGTERM; SIGKILL follows at
        /// `killAt` (nil: sent, it only remains to reap it). This master serves on.
        case abandoned(pid: ProcessID, killAt: Instant?)
        /// The new master reported ready and is in charge: this one drains its workers and exits.
        case handedOver(newPID: ProcessID)
        /// A stop came first: the new master was told to go, and is killed at exit if still there.
        case cancelled(pid: ProcessID)
    }

    /// Why a USR2 is not acted on.
    enum Refusal: Equatable {
        case shuttingDown
        case underWay(newPID: ProcessID)
        case takingOver
    }

    /// How the ready pipe was found when it became readable.
    enum PipeRead: Equatable {
        /// The new master wrote to it: every one of its workers is ready.
        case ready
        /// End of file (or an error): the new master closed its end without a word.
        case closed
    }

    /// What the master logs.
    enum Report: Equatable {
        case exited(newPID: ProcessID, status: ExitStatus)
        case notReadyInTime(newPID: ProcessID, timeout: Duration)
        case ignoredTerminate(newPID: ProcessID)
        case cancelled(newPID: ProcessID)
    }

    enum Action: Equatable {
        case report(Report)
        case signal(ProcessID, Signal)
        case closePipe(FileDescriptor)
        /// A failed new master may have written the pidfile or taken the control socket's path
        /// (it does both just before it reports ready): take them back.
        case reclaimFiles
        /// The new master is in charge: log it, and drain.
        case handOver(newPID: ProcessID)
        /// Our first generation is ready: take the pidfile and the control socket, then tell the
        /// old master it may go.
        case takeOver(BinaryUpgrade.Origin)
    }

    var policy: Policy
    private(set) var state: State

    /// `origin`: set when this master was started by an upgrade.
    init(origin: BinaryUpgrade.Origin?, policy: Policy = Policy()) {
        self.policy = policy
        state = origin.map { .takingOver($0) } ?? .idle
    }

    // MARK: Events

    /// USR2 arrived. `serving`: the master is neither stopping nor waiting out a shutdown delay.
    /// Nil means go ahead: start the new master, then report it with `started` (nothing changes
    /// if that fails).
    func refusal(serving: Bool) -> Refusal? {
        guard serving else { return .shuttingDown }
        switch state {
        case .idle: return nil
        case let .starting(pid, _, _), let .abandoned(pid, _): return .underWay(newPID: pid)
        case .takingOver: return .takingOver
        case .handedOver, .cancelled: return .shuttingDown
        }
    }

    /// The new master was forked; `readyPipe` is our end of its pipe.
    mutating func started(pid: ProcessID, readyPipe: FileDescriptor, now: Instant) {
        precondition(state == .idle, "an upgrade starts only when `refusal` allows it")
        state = .starting(pid: pid, readyPipe: readyPipe, deadline: now + policy.readyTimeout)
    }

    /// The ready pipe was readable. `serving` is false when this master began to stop meanwhile:
    /// a ready new master is then too late, and must go like a failed one.
    mutating func pipeRead(_ read: PipeRead, serving: Bool, now: Instant) -> [Action] {
        guard case let .starting(pid, pipe, _) = state else { return [] }
        if read == .ready && serving {
            state = .handedOver(newPID: pid)
            return [.closePipe(pipe), .handOver(newPID: pid)]
        }
        // Exiting, or alive with its end closed (then of no use): either way it must go. Why it
        // failed is logged when it is reaped, with its status.
        state = .abandoned(pid: pid, killAt: now + policy.exitTimeout)
        return [.closePipe(pipe), .signal(pid, .terminate)]
    }

    /// A child was reaped. Nil when it is not a new master this lifecycle waits for: the master
    /// treats it as any other child (a cancelled one included, which is forgotten here so that no
    /// SIGKILL at exit can reach a reused pid).
    mutating func reaped(pid: ProcessID, status: ExitStatus) -> [Action]? {
        switch state {
        case let .starting(newPID, pipe, _) where newPID == pid:
            state = .idle
            return [.report(.exited(newPID: pid, status: status)), .closePipe(pipe), .reclaimFiles]
        case let .abandoned(newPID, _) where newPID == pid:
            state = .idle
            return [.report(.exited(newPID: pid, status: status)), .reclaimFiles]
        case let .cancelled(newPID) where newPID == pid:
            state = .idle
            return nil
        default:
            return nil
        }
    }

    /// Time passed: a new master not ready by its deadline is killed (its workers follow by their
    /// parent-death signal); one that ignored SIGTERM too.
    mutating func tick(now: Instant) -> [Action] {
        switch state {
        case let .starting(pid, pipe, deadline) where now >= deadline:
            state = .abandoned(pid: pid, killAt: nil)
            return [.report(.notReadyInTime(newPID: pid, timeout: policy.readyTimeout)), .closePipe(pipe),
                    .signal(pid, .kill), .reclaimFiles]
        case let .abandoned(pid, killAt?) where now >= killAt:
            state = .abandoned(pid: pid, killAt: nil)
            return [.report(.ignoredTerminate(newPID: pid)), .signal(pid, .kill), .reclaimFiles]
        default:
            return []
        }
    }

    /// The master is stopping: a new master still starting is told to go (one already failing is
    /// killed), and whatever it does next is ignored.
    mutating func cancel() -> [Action] {
        switch state {
        case let .starting(pid, pipe, _):
            state = .cancelled(pid: pid)
            return [.report(.cancelled(newPID: pid)), .signal(pid, .terminate), .closePipe(pipe), .reclaimFiles]
        case let .abandoned(pid, _):
            state = .cancelled(pid: pid)
            return [.report(.cancelled(newPID: pid)), .signal(pid, .kill), .reclaimFiles]
        case .takingOver, .idle, .handedOver, .cancelled:
            return []
        }
    }

    /// This master's generation is fully ready: one started by an upgrade takes over now.
    mutating func settled() -> [Action] {
        guard case let .takingOver(origin) = state else { return [] }
        state = .idle
        return [.takeOver(origin)]
    }

    // MARK: Queries

    /// The pipe to watch for the new master's word.
    var readyPipe: FileDescriptor? {
        if case let .starting(_, pipe, _) = state { pipe } else { nil }
    }

    /// The earliest instant at which `tick` has something to do.
    var nextDeadline: Instant? {
        switch state {
        case let .starting(_, _, deadline): deadline
        case let .abandoned(_, killAt): killAt
        case .takingOver, .idle, .handedOver, .cancelled: nil
        }
    }

    /// A new master is starting or failing, and still our child.
    var isUnderWay: Bool {
        switch state {
        case .starting, .abandoned: true
        case .takingOver, .idle, .handedOver, .cancelled: false
        }
    }

    /// The old master that started us, while we wait to take over.
    var origin: BinaryUpgrade.Origin? {
        if case let .takingOver(origin) = state { origin } else { nil }
    }

    var hasHandedOver: Bool {
        if case .handedOver = state { true } else { false }
    }

    /// Neither waiting to take over nor handed over: the listeners' queues and the unix socket
    /// files are this master's to close.
    var isInCharge: Bool { origin == nil && !hasHandedOver }

    /// A new master that may still be running and must not outlive us (not one that took over).
    var unfinishedChild: ProcessID? {
        switch state {
        case let .starting(pid, _, _), let .abandoned(pid, _), let .cancelled(pid): pid
        case .takingOver, .idle, .handedOver: nil
        }
    }
}
