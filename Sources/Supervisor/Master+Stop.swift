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
        return delayedStop == nil
    }

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
        }
        perform(table.shutdown(mode, now: now))
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
