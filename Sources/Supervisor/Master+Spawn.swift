import Channel
import Logging
import Posix
import Settings

/// Carrying out the worker table's actions: fork a worker, ask one to quit, kill one, exit.
extension Master {
    func perform(_ actions: [WorkerTable.Action]) {
        // Workers silent past their deadline: where each hung goes on its kill line, asked of all at once.
        let hung = actions.compactMap { action -> (pid: ProcessID, channel: FileDescriptor?)? in
            guard case let .kill(pid, reason) = action, reason == .timeout || reason == .bootTimeout else { return nil }
            return (pid, records.channel(of: pid))
        }
        let reports = hung.isEmpty ? [:] : HangReport.collect(hung, wait: hangReportWait)
        for action in actions {
            switch action {
            case let .spawn(slot, generation):
                spawn(slot: slot, generation: generation)
            case let .quit(pid, deadline, reason):
                askToQuit(pid, deadline: deadline, reason: reason)
            case let .kill(pid, reason):
                let slot = table.workers[pid]?.slot ?? -1
                let fields: [(String, LogValue)] = [("pid", LogValue(pid)), ("slot", LogValue(slot)), ("reason", .string(reason.rawValue))]
                logger.log(.warn, "killing worker", fields + (reports[pid] ?? []))
                try? Process.signal(pid, .kill)
            case let .exit(code):
                exitCode = code
            }
        }
    }

    /// How long the master waits for a hung worker's stack report: a report comes within
    /// milliseconds from a worker that can run at all, and the master serves nobody else meanwhile.
    var hangReportWait: Duration { min(.milliseconds(500), table.policy.timeout / 4) }

    private func askToQuit(_ pid: ProcessID, deadline: Instant, reason: WorkerTable.QuitReason) {
        logger.info("asking worker to quit", ("pid", LogValue(pid)), ("slot", LogValue(table.workers[pid]?.slot ?? -1)),
                    ("reason", .string(reason.rawValue)), ("deadline_s", .string(deadline.since(.now).secondsText)))
        var delivered = false
        if let channel = records.channel(of: pid) {
            delivered = (try? ChannelIO.send(.quit(deadline: deadline), on: channel)) ?? false
        }
        // A worker whose channel is full or gone still understands SIGTERM as a graceful quit.
        if !delivered { try? Process.signal(pid, .terminate) }
    }

    private func spawn(slot: Int, generation: Int) {
        let pending: WorkerRecords.Pending
        do {
            pending = try records.prepare()
        } catch {
            switch error {
            case .noSharedCounters:
                logger.error("cannot spawn a worker: no shared counters", ("slot", LogValue(slot)))
            case let .channel(error):
                logger.error("cannot create worker channel", ("slot", LogValue(slot)), ("error", LogValue(error)))
            }
            perform(table.spawnFailed(slot: slot, now: .now))
            return
        }
        let masterPID = Process.id
        let pid: ProcessID
        do {
            pid = try Process.fork()
        } catch {
            records.abandon(pending)
            logger.error("fork() failed while spawning a worker", ("slot", LogValue(slot)), ("error", LogValue(error)))
            perform(table.spawnFailed(slot: slot, now: .now))
            return
        }
        if pid == 0 {
            // The child: keep only what the worker serves with; the master's signalfd, the other
            // workers' channels and anything else the master holds are closed.
            var keep = Set(listeners.descriptors.map(\.rawValue))
            keep.insert(pending.workerEnd.rawValue)
            FileDescriptor.closeAll(except: keep)
            workerMain(WorkerLaunch(slot: slot, generation: generation, masterPID: masterPID,
                                    channel: pending.workerEnd, listeners: listeners.descriptors, shared: pending.shared,
                                    seat: pending.seat, outOfRotation: outOfRotation), config)
        }
        records.commit(pending, pid: pid)
        table.spawned(pid: pid, slot: slot, generation: generation, now: .now)
        logger.info("worker spawned", ("pid", LogValue(pid)), ("slot", LogValue(slot)), ("generation", LogValue(generation)))
    }
}
