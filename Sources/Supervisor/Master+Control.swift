import Logging
import Posix
import Settings

/// The master's answers to `supervisor status|reload|stop|scale`, arriving on its control socket.
extension Master {
    func answer(_ command: ControlCommand?) -> String {
        guard let command else { return "error: unknown command (expected status, reload, stop, scale +N|-N|N, drain or undrain)\n" }
        let now = Instant.now
        switch command {
        case let .status(json):
            let report = statusReport(now: now)
            return "ok\n" + (json ? report.json() : report.table())
        case .reload:
            logger.info("reload requested", ("by", "control socket"))
            switch reload(now: now) {
            case let .success(generation):
                return "ok\nreloading: generation \(generation) with \(pendingReload?.workers ?? table.desired) workers; the old ones retire as their successors become ready\n"
            case let .failure(refusal):
                return "error: reload rejected, the running configuration stays in force: \(refusal.description)\n"
            }
        case .stop:
            guard isServing else { return "ok\nalready stopping\n" }
            requestStop(.graceful, by: ("by", "control socket"), now: now)
            if delayedStop != nil {
                return "ok\nstopping: out of rotation for \(config.shutdownDelay.secondsText)s, then pid \(Process.id) drains its workers within \(config.gracefulTimeout.secondsText)s\n"
            }
            return "ok\nstopping: pid \(Process.id) drains its workers within \(config.gracefulTimeout.secondsText)s\n"
        case .drain, .undrain:
            let inRotation = command == .undrain
            guard isServing else { return "error: the master is shutting down\n" }
            if outOfRotation != inRotation { return "ok\nalready \(inRotation ? "in" : "out of") rotation\n" }
            setRotation(inRotation: inRotation, by: ("by", "control socket"))
            return inRotation ? "ok\nback in rotation: /healthz answers 200 again\n"
                : "ok\nout of rotation: /healthz answers 503 on every worker; every other request is still served\n"
        case let .scale(target):
            let before = table.desired
            let delta: Int
            switch target {
            case let .by(value): delta = value
            case let .to(count): delta = count - before
            }
            if delta == 0 { return "ok\nalready \(before) workers\n" }
            if let refusal = scale(by: delta, now: now) { return "error: cannot scale from \(before) by \(delta): \(refusal)\n" }
            return "ok\nscaling from \(before) to \(table.desired) workers\n"
        }
    }

    func statusReport(now: Instant) -> StatusReport {
        let phase: String
        switch table.phase {
        case .serving: phase = delayedStop != nil || handshakeWait != nil ? "stopping" : upgrade.isUnderWay ? "upgrading" : "serving"
        case .stopping: phase = "stopping"
        }
        let rows = table.workers.values.map { worker in
            StatusReport.WorkerRow(
                pid: worker.pid, slot: worker.slot, generation: worker.generation, state: Self.stateName(worker),
                ageMilliseconds: now.since(worker.spawnedAt).milliseconds, requests: worker.stats.requests,
                connections: worker.stats.openConnections, residentBytes: worker.stats.residentBytes,
                lastHeartbeatMilliseconds: now.since(worker.lastSeen).milliseconds)
        }
        observeRate(now: now)
        var report = StatusReport(
            masterPID: Process.id, uptimeMilliseconds: now.since(startedAt).milliseconds, generation: table.generation,
            desiredWorkers: table.desired, phase: phase, inRotation: !outOfRotation, app: config.app, binds: listeners.all.map(\.bound.description),
            restarts: table.restarts, connectionLimit: config.workerConnections, workers: rows)
        report.requestsPerSecond = traffic.requestsPerSecond
        report.restartReasons = WorkerTable.RestartReason.allCases.map { .init(name: $0.rawValue, value: table.restartsByReason[$0] ?? 0) }
        report.listenQueues = listenQueues().map { .init(address: $0.address, length: $0.length) }
        return report
    }
}
