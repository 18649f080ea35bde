import Channel
import Logging
import Posix
import Settings

/// Stopping, and leaving the load balancer's rotation first: INT/TERM/QUIT, `supervisor stop`,
/// `--shutdown-delay`, `supervisor drain|undrain`, and what systemd is told meanwhile.
extension Master {
    /// Serving, and no stop waiting out its `--shutdown-delay`.
    var isServing: Bool {
        guard case .serving = table.phase else { return false }
        return delayedStop == nil && handshakeWait == nil
    }

    /// How long a stop waits at most for the handshakes under way (`HandshakesInFlight`): one
    /// retransmitted SYN-ACK (the first goes after 1 s) and its answer.
    static var handshakeWaitLimit: Duration { .seconds(3) }
    /// How often the master looks again meanwhile.
    static var handshakeCheckInterval: Duration { .milliseconds(10) }

    /// INT/TERM/QUIT or `supervisor stop`. A graceful stop with `--shutdown-delay` first leaves the
    /// rotation and serves on for that long (load balancers need a few health checks to notice);
    /// a second one during the delay starts the drain at once.
    func requestStop(_ mode: WorkerTable.ShutdownMode, by cause: (String, LogValue), now: Instant) {
        if mode == .graceful, isServing, config.shutdownDelay > .zero {
            delayedStop = now + config.shutdownDelay
            // A stop beats an upgrade under way, a delayed one too: a new master that became
            // ready during the delay would take over a server told to stop.
            perform(upgrade.cancel(), now: now)
            if !upgrade.hasHandedOver { notify { (notifier) throws(SystemError) in try notifier.stopping() } }
            logger.info("shutting down: out of rotation first", cause, ("delay_s", .string(config.shutdownDelay.secondsText)))
            setRotation(inRotation: false, by: cause)
            return
        }
        delayedStop = nil
        logger.info("shutting down", cause, ("mode", .string(mode.rawValue)))
        shutdown(mode, now: now)
    }

    /// `supervisor drain|undrain`, and the start of a delayed stop: tells every worker.
    func setRotation(inRotation: Bool, by cause: (String, LogValue)) {
        outOfRotation = !inRotation
        logger.info(inRotation ? "back in rotation" : "out of rotation", cause)
        for (pid, channel) in records.channels where !((try? ChannelIO.send(.rotation(inRotation: inRotation), on: channel)) ?? false) {
            logger.warn("cannot tell a worker about the rotation", ("pid", LogValue(pid)))
        }
    }

    func shutdown(_ mode: WorkerTable.ShutdownMode, now: Instant) {
        if isServing, !upgrade.hasHandedOver { notify { (notifier) throws(SystemError) in try notifier.stopping() } }
        // A stop beats an upgrade under way: the new master must not take over a stopping server.
        perform(upgrade.cancel(), now: now)
        // No new connection joins the queues, and the workers take what is queued before they go:
        // closing a listener resets every connection still in its queue, requests sent included.
        // Not after a hand-over, nor in a new master not yet in charge: the sockets serve on.
        if upgrade.isInCharge && !stopAdmitting {
            stopAdmitting = true
            for failure in Listeners.refuseNewConnections(listeners.all) {
                logger.warn("cannot stop new connections; those queued at exit will be reset", ("error", LogValue(failure)))
            }
            // A handshake under way still completes into a queue, up to a round trip from now: the
            // workers accept on until it has, or the one that completes after their last accept is
            // reset at exit. A second signal meanwhile drains at once (below).
            // A fast stop closes everything now: it does not ask.
            let underWay = mode == .graceful ? handshakesUnderWay() : 0
            if underWay > 0 {
                handshakeWait = now + Self.handshakeWaitLimit
                logger.info("waiting for handshakes under way", ("handshakes", LogValue(underWay)),
                            ("at_most_s", .string(Self.handshakeWaitLimit.secondsText)))
                return
            }
        }
        handshakeWait = nil
        perform(table.shutdown(mode, now: now))
    }

    /// During a stop's wait for handshakes: the drain begins once none is under way, or at the
    /// wait's limit (a client that never answers its SYN-ACK holds no one up for long).
    func drainOnceHandshakesLand(now: Instant) {
        guard let limit = handshakeWait else { return }
        let underWay = handshakesUnderWay()
        guard underWay == 0 || now >= limit else { return }
        if underWay > 0 { logger.warn("handshakes still under way at the wait's limit; draining without them", ("handshakes", LogValue(underWay))) }
        handshakeWait = nil
        perform(table.shutdown(.graceful, now: now))
    }

    /// Handshakes under way on the TCP listeners' ports, and on the addresses a reload waiting for
    /// them removed; 0 when the kernel cannot be asked (nothing to wait for that we could see).
    func handshakesUnderWay() -> Int {
        handshakesUnderWay(onPorts: Set(listeners.all.compactMap { $0.bound.port }).union(pendingReload?.ports ?? []))
    }

    func handshakesUnderWay(onPorts ports: Set<UInt16>) -> Int {
        do {
            return try HandshakesInFlight.count(onPorts: ports)
        } catch {
            logger.warn("cannot ask the kernel for handshakes under way; not waiting for them", ("error", LogValue(error)))
            return 0
        }
    }

    /// One line for `systemctl status`.
    func statusLine() -> String {
        let ready = table.workers.values.filter { $0.state == .ready }.count
        return "\(ready)/\(table.desired) workers ready, generation \(table.generation), \(table.restarts) restarts"
    }

    /// Sends a notification to systemd, if it listens; a failure is logged, never fatal.
    func notify(_ send: (ServiceNotifier) throws(SystemError) -> Void) {
        guard let notifier else { return }
        do {
            try send(notifier)
        } catch {
            logger.warn("cannot notify the service manager", ("socket", .string(notifier.notifySocket)), ("error", LogValue(error)))
        }
    }
}
