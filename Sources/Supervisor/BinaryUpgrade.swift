import Logging
import Posix
import Settings

/// USR2: replace the running binary without closing a listening socket.
///
/// The old master forks and execs the program file again (the path it was started as, so a file
/// replaced on disk is what runs), with the listening sockets at descriptors 3… named in
/// `LISTEN_FDS` / `LISTEN_PID` / `LISTEN_FDNAMES` (systemd's socket-activation convention) and the
/// write end of a pipe named in `SUPERVISOR_UPGRADE_FD`. The new master adopts the sockets, starts
/// its workers and, once every one is ready, writes the pidfile, takes over the control socket and
/// writes to the pipe. Then the old master drains its workers and exits. If the new master exits,
/// closes the pipe or is not ready within `BinaryUpgrade.readyTimeout`, the old one logs why and
/// keeps serving, as if nothing had happened.
public enum BinaryUpgrade {
    /// Environment: the descriptor the new master reports readiness on.
    public static let readyVariable = "SUPERVISOR_UPGRADE_FD"
    /// Environment: the old master's pid (its pidfile is not "another master running").
    public static let originVariable = "SUPERVISOR_UPGRADE_FROM"
    /// Environment: set when the old master is out of rotation (`supervisor drain`): the new one
    /// starts out of rotation too, so an upgrade never puts a drained server back by itself.
    public static let outOfRotationVariable = "SUPERVISOR_UPGRADE_OUT_OF_ROTATION"
    /// How long a new master may take to have every worker ready.
    public static let readyTimeout = Duration.seconds(60)

    /// How long a new master that failed before it was ready gets to exit after SIGTERM.
    static let exitTimeout = Duration.seconds(10)

    /// What a new master knows of the old one that started it.
    public struct Origin: Equatable, Sendable {
        public let oldPID: ProcessID
        public let readyFD: FileDescriptor
        /// The old master was out of rotation.
        public let outOfRotation: Bool

        /// Reads (and removes from the environment) the variables an old master set; nil when this
        /// process was not started by a binary upgrade.
        public static func takeFromEnvironment() -> Origin? {
            let outOfRotation = Environment.value(outOfRotationVariable) == "1"
            defer {
                // Names without `=`: removing them cannot fail.
                try? Environment.remove(readyVariable)
                try? Environment.remove(originVariable)
                try? Environment.remove(outOfRotationVariable)
            }
            guard let fdText = Environment.value(readyVariable),
                  let pidText = Environment.value(originVariable),
                  let fd = CInt(fdText), fd > 2, let pid = ProcessID(pidText), pid > 0 else { return nil }
            let descriptor = FileDescriptor(rawValue: fd)
            try? descriptor.setCloseOnExec(true)
            return Origin(oldPID: pid, readyFD: descriptor, outOfRotation: outOfRotation)
        }

        /// Tells the old master it may go.
        func reportReady() {
            try? readyFD.writeAll("ready\n")
            readyFD.close()
        }
    }
}

extension Master {
    /// USR2: fork and exec the program file, unless something stands in the way.
    func startUpgrade(now: Instant) {
        switch upgrade.refusal(serving: isServing) {
        case .shuttingDown:
            logger.warn("binary upgrade refused: shutting down", ("signal", "USR2"))
            return
        case let .underWay(newPID):
            logger.warn("binary upgrade refused: one is already under way", ("signal", "USR2"), ("new_pid", LogValue(newPID)))
            return
        case .takingOver:
            logger.warn("binary upgrade refused: this master is still taking over from the previous one", ("signal", "USR2"))
            return
        case nil:
            break
        }
        if Process.id == 1 {
            // The old master exits after the hand-over; as PID 1 its exit would take the whole
            // namespace, new master included, down with it.
            logger.warn("binary upgrade refused: running as PID 1 (replace the container instead)", ("signal", "USR2"))
            return
        }
        guard let executable else {
            logger.error("binary upgrade failed: the program file is unknown", ("signal", "USR2"))
            return
        }
        let pipe: (read: FileDescriptor, write: FileDescriptor)
        do {
            pipe = try FileDescriptor.pipe()
        } catch {
            logger.error("binary upgrade failed", ("error", LogValue(error)))
            return
        }
        let masterPID = Process.id
        let sockets = listeners.all
        let pid: ProcessID
        do {
            pid = try Process.fork()
        } catch {
            pipe.read.close()
            pipe.write.close()
            logger.error("binary upgrade failed", ("error", LogValue(error)))
            return
        }
        if pid == 0 {
            execNewMaster(executable, sockets: sockets, readyFD: pipe.write, oldPID: masterPID)
        }
        pipe.write.close()
        upgrade.started(pid: pid, readyPipe: pipe.read, now: now)
        logger.info("binary upgrade started", ("new_pid", LogValue(pid)), ("binary", .string(executable.path)))
    }

    /// In the forked child: put the sockets at 3…, the pipe after them, name them, exec.
    private func execNewMaster(_ executable: (path: String, arguments: [String]), sockets: [Listeners.Listener],
                               readyFD: FileDescriptor, oldPID: ProcessID) -> Never {
        func fail(_ error: SystemError) -> Never {
            logger.error("binary upgrade failed in the new process", ("error", LogValue(error)))
            Process.exitImmediately(127)
        }
        do {
            try SignalSet([]).setAsMask()
            let passed = sockets.map(\.fd) + [readyFD]
            // First out of the way (above every target number), then into place: dup2 onto a
            // target must never clobber a descriptor still to be moved.
            let floor = CInt(3 + passed.count)
            var moved: [FileDescriptor] = []
            for fd in passed { moved.append(try fd.duplicate(atLeast: floor)) }
            for (index, fd) in moved.enumerated() { try fd.duplicate(onto: 3 + CInt(index)) }
            FileDescriptor.closeAll(except: Set((0..<CInt(passed.count)).map { 3 + $0 }))
        } catch {
            fail(error)
        }
        do {
            try Environment.set("LISTEN_FDS", to: String(sockets.count))
            try Environment.set("LISTEN_PID", to: String(Process.id))
            try Environment.set("LISTEN_FDNAMES", to: sockets.map { Listeners.handoverName($0.configured) }.joined(separator: ":"))
            try Environment.set(BinaryUpgrade.readyVariable, to: String(3 + sockets.count))
            try Environment.set(BinaryUpgrade.originVariable, to: String(oldPID))
            if outOfRotation { try Environment.set(BinaryUpgrade.outOfRotationVariable, to: "1") }
        } catch {
            fail(error)
        }
        fail(Process.execute(executable.path, arguments: executable.arguments))
    }

    /// The pipe from the new master is readable: it is ready, or it closed its end without a word
    /// (which it does by exiting: the failure is logged when it is reaped, with its status).
    func readUpgradePipe(_ pipe: FileDescriptor, now: Instant) {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count: Int?
        do {
            count = try buffer.withUnsafeMutableBytes { bytes throws(SystemError) in try pipe.read(into: bytes) }
        } catch {
            count = 0
        }
        guard let count else { return }
        perform(upgrade.pipeRead(count > 0 ? .ready : .closed, serving: isServing, now: now), now: now)
    }

    /// Carries out the upgrade lifecycle's actions.
    func perform(_ actions: [UpgradeLifecycle.Action], now: Instant) {
        for action in actions {
            switch action {
            case let .report(report):
                log(report)
            case let .signal(pid, signal):
                try? Process.signal(pid, signal)
            case let .closePipe(pipe):
                pipe.close()
            case .reclaimFiles:
                reclaimFiles()
            case let .handOver(newPID):
                logger.info("binary upgrade complete", ("new_pid", LogValue(newPID)))
                perform(table.shutdown(.graceful, now: now))
            case let .takeOver(origin):
                takeOver(from: origin)
            }
        }
    }

    private func log(_ report: UpgradeLifecycle.Report) {
        switch report {
        case let .exited(newPID, status):
            logger.error("binary upgrade failed: the new master exited; still serving", ("new_pid", LogValue(newPID)), ("status", LogValue(status)))
        case let .notReadyInTime(newPID, timeout):
            logger.error("binary upgrade failed: the new master was not ready in time; killing it, still serving",
                         ("new_pid", LogValue(newPID)), ("timeout_s", .string(timeout.secondsText)))
        case let .ignoredTerminate(newPID):
            logger.warn("the failed new master did not exit on SIGTERM; killing it", ("new_pid", LogValue(newPID)))
        case let .cancelled(newPID):
            logger.warn("binary upgrade cancelled", ("new_pid", LogValue(newPID)), ("reason", "shutting down"))
        }
    }

    /// A new master whose workers are all ready: the pidfile and the control socket become ours,
    /// then the old master is told to go.
    private func takeOver(from origin: BinaryUpgrade.Origin) {
        if let pidfile {
            do {
                try pidfile.write()
            } catch {
                logger.error("cannot write pidfile", ("error", LogValue(error)))
            }
        }
        if let path = config.pidfile {
            do {
                control = try ControlServer(path: ControlCommand.socketPath(forPidfile: path))
            } catch {
                logger.error("cannot create the control socket", ("error", LogValue(error)))
            }
        }
        origin.reportReady()
        logger.info("took over from the old master", ("old_pid", LogValue(origin.oldPID)))
    }

    /// A new master that failed after it had taken the pidfile or the control socket (it writes
    /// them just before reporting ready) leaves them naming a dead process: take them back.
    func reclaimFiles() {
        if let pidfile, pidfile.read() != Process.id {
            do {
                try pidfile.write()
                logger.info("pidfile reclaimed from the failed new master", ("pidfile", .string(pidfile.path)))
            } catch {
                logger.error("cannot rewrite pidfile", ("error", LogValue(error)))
            }
        }
        if let current = control, !current.ownsPath {
            current.close()
            do {
                control = try ControlServer(path: current.path)
            } catch {
                control = nil
                logger.error("cannot recreate the control socket", ("error", LogValue(error)))
            }
        }
        reclaimMetricsSocket()
    }
}
