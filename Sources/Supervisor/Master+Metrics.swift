import Channel
import Logging
import Posix

/// `--metrics-bind`: the master's figures as a Prometheus page, served from its poll loop
/// (`MetricsServer`), built from the worker table, the departed workers' totals and the listeners.
extension Master {
    /// Binds the metrics address, if one is configured. False (logged) when it cannot be bound:
    /// the master then refuses to start, as for a listener.
    func openMetrics() -> Bool {
        guard let address = config.metricsBind else { return true }
        do {
            let server = try MetricsServer(address: address, takingOver: upgrade.origin != nil)
            metrics = server
            logger.info("serving metrics", ("addr", LogValue(server.address)), ("path", "/metrics"))
            return true
        } catch {
            logger.error("cannot serve metrics", ("addr", .string(address.description)), ("error", LogValue(error)))
            return false
        }
    }

    /// After a failed binary upgrade: a unix metrics socket the new master replaced is put back
    /// (as the control socket is), so scrapers reach this master again.
    func reclaimMetricsSocket() {
        guard let current = metrics, !current.ownsPath else { return }
        current.close()
        do {
            metrics = try MetricsServer(address: current.address, takingOver: true)
            logger.info("metrics socket reclaimed from the failed new master", ("addr", LogValue(current.address)))
        } catch {
            metrics = nil
            logger.error("cannot recreate the metrics socket", ("addr", LogValue(current.address)), ("error", LogValue(error)))
        }
    }

    /// The counters of a reaped worker join the totals, so none goes down when a worker is gone.
    func foldDeparted(_ worker: WorkerTable.Worker) {
        traffic.fold(worker.stats)
    }

    /// Samples the request rate (on heartbeats and status requests), at most once a second: a
    /// sum over the workers, which at a thousand of them must not run per heartbeat.
    func observeRate(now: Instant) {
        guard traffic.sampleDue(now: now) else { return }
        traffic.observe(requests: traffic.departed.requests &+ table.workers.values.reduce(0) { $0 &+ $1.stats.requests }, now: now)
    }

    func currentTraffic() -> WorkerStats {
        traffic.current(live: table.workers.values.lazy.map(\.stats))
    }

    /// Each listener's accept queue; nil for a unix socket or one whose figure cannot be read.
    func listenQueues() -> [(address: String, length: UInt32?)] {
        listeners.all.map { listener in
            (listener.bound.description, listener.bound.isUnix ? nil : try? Socket.acceptQueueLength(listener.fd))
        }
    }

    func metricsSnapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot()
        snapshot.traffic = currentTraffic()
        snapshot.openConnections = snapshot.traffic.openConnections
        snapshot.echoConnectionsOpen = snapshot.traffic.echoConnectionsOpen
        for worker in table.workers.values {
            snapshot.workersByState[Self.stateName(worker), default: 0] += 1
            snapshot.workers.append(.init(slot: worker.slot, pid: worker.pid, residentBytes: worker.stats.residentBytes,
                                          loopLagMicroseconds: worker.stats.maxLoopLagMicroseconds))
        }
        snapshot.workers.sort { ($0.slot, $0.pid) < ($1.slot, $1.pid) }
        snapshot.restarts = table.restartsByReason
        snapshot.generation = table.generation
        snapshot.startTimeSeconds = startedAtWallClock
        snapshot.listenQueues = listenQueues()
        snapshot.uploadsInProgress = records.shared?.total ?? 0
        return snapshot
    }

    /// The state `supervisor status` and the metrics show for a worker.
    static func stateName(_ worker: WorkerTable.Worker) -> String {
        switch worker.state {
        case .booting: "booting"
        case .ready: worker.recycling ? "recycling" : "ready"
        case .retiring: "retiring"
        case .killed: "killed"
        }
    }
}
