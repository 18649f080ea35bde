import Channel
import EventLoop
import Logging
import Posix
import Settings

/// A worker process, from just after `fork` to `exit`.
///
/// Boot: tie its life to the master's (`PR_SET_PDEATHSIG`), set its own signal dispositions, create
/// the event loop (only now, after fork), start the service, accept, report `ready`. Then serve,
/// sending a heartbeat every `heartbeatInterval`, until the master says `quit`, the master vanishes
/// (EOF on the channel), or SIGTERM comes: then drain and exit 0.
@LoopActor
public final class Worker {
    /// Builds the service on the loop; throwing makes this a boot failure.
    public typealias ServiceFactory = @LoopActor (WorkerLaunch) throws -> any Service

    let launch: WorkerLaunch
    let config: Configuration
    let logger: Logger
    let loop: EventLoop
    let terminate: SignalDescriptor
    var acceptor: Acceptor?
    var service: (any Service)?
    var drainDeadline: Instant?
    /// Past `--max-requests`: asked (again with every heartbeat, in case a message was lost) until
    /// the master tells us to quit.
    var recycleRequested = false
    var drainTimer: LoopTimer?
    /// Gives a burst's freed memory back to the kernel at a heartbeat (malloc keeps it otherwise).
    var heapReturn = HeapReturn(free: Heap.freeBytes)

    /// Runs a worker in the freshly forked child. Never returns.
    public nonisolated static func run(_ launch: WorkerLaunch, config: Configuration, logger: Logger,
                                       makeService: @escaping ServiceFactory) -> Never {
        var logger = logger
        logger.context.append(("worker", LogValue(Process.id)))
        logger.context.append(("slot", LogValue(launch.slot)))
        Logger.process = logger
        let loop: EventLoop
        let terminate: SignalDescriptor
        do {
            // First: until the handler is in place, the master's stack-report signal (sent to a
            // worker that missed its heartbeat deadline) would terminate us unreported.
            try StackReporter.install(reportingTo: launch.channel)
            // The kernel SIGTERMs us if the master dies, even by SIGKILL; if it died before this
            // line ran, our parent is already someone else.
            try Process.setParentDeathSignal(.terminate)
            if Process.parentID != launch.masterPID { Process.exitImmediately(0) }
            // The terminal sends INT/QUIT/HUP/TTIN... to the whole process group; the master alone
            // acts on them and tells its workers. TERM (sent to this worker directly, or by the
            // death signal) means a graceful drain, read from a signalfd on the loop.
            SignalDisposition.ignore([.interrupt, .quit, .hangup, .user1, .user2, .ttyInput, .ttyOutput, .pipe])
            SignalDisposition.reset([.child])
            let mask = SignalSet([.terminate])
            try mask.setAsMask()
            terminate = try SignalDescriptor(mask)
            loop = try EventLoop.boot()
            loop.installAsGlobalExecutor()
            loop.isOutOfRotation = launch.outOfRotation
        } catch {
            logger.error("worker cannot boot", ("error", LogValue(error)))
            Process.exitImmediately(WorkerExitCode.bootFailure)
        }
        Task { @LoopActor in
            let worker = Worker(launch: launch, config: config, logger: logger, loop: loop, terminate: terminate)
            worker.boot(makeService)
        }
        loop.run()
        Process.exitImmediately(0)
    }

    init(launch: WorkerLaunch, config: Configuration, logger: Logger, loop: EventLoop, terminate: SignalDescriptor) {
        self.launch = launch
        self.config = config
        self.logger = logger
        self.loop = loop
        self.terminate = terminate
    }

    private func boot(_ makeService: ServiceFactory) {
        watchBackgroundTasks()
        do {
            service = try makeService(launch)
        } catch {
            logger.error("service failed to start", ("app", .string(config.app)), ("error", .string(String(describing: error))))
            Process.exitImmediately(WorkerExitCode.bootFailure)
        }
        let acceptor = Acceptor(loop: loop, listeners: launch.listeners) { [unowned self] event in
            LoopActor.assumeIsolated { self.acceptorEvent(event) }
        }
        if config.workerConnections > 0 {
            let limit = UInt64(config.workerConnections)
            acceptor.admits = { LoopActor.assumeIsolated { ServiceStats.shared.open < limit } }
        }
        do throws(SystemError) {
            try loop.addSource(launch.channel, exclusive: false) { LoopActor.assumeIsolated { self.readChannel() } }
            try loop.addSource(terminate.fd, exclusive: false) { LoopActor.assumeIsolated { self.readSignals() } }
            try acceptor.start()
        } catch {
            logger.error("worker cannot boot", ("error", LogValue(error)))
            Process.exitImmediately(WorkerExitCode.bootFailure)
        }
        self.acceptor = acceptor
        limitRequests()
        send(.ready)
        scheduleHeartbeat()
    }

    // MARK: Connections

    private func acceptorEvent(_ event: Acceptor.Event) {
        switch event {
        case let .accepted(fd):
            // Responses go out whole; Nagle would only hold them back waiting for an ACK. Fails,
            // harmlessly, on unix sockets.
            try? Socket.setNoDelay(fd)
            ServiceStats.shared.connectionOpened()
            // The runtime enqueues a resumed task on the global executor (swift_task_enqueueGlobal,
            // seen in gdb), which in a worker is its loop (EventLoop.installAsGlobalExecutor): no
            // task-executor preference needed, and no pool thread is ever started.
            Task { await self.serve(fd) }
        case let .paused(error, pause):
            ServiceStats.shared.traffic.refused()
            logger.warn("accept paused: out of file descriptors", ("error", LogValue(error)), ("pause_ms", LogValue(pause.milliseconds)))
        case let .failed(error):
            logger.error("accept failed", ("error", LogValue(error)))
        }
    }

    private func serve(_ fd: FileDescriptor) async {
        let connection: Connection
        do {
            connection = try Connection(adopting: fd)
        } catch {
            fd.close()
            ServiceStats.shared.connectionClosed()
            ServiceStats.shared.traffic.refused()
            finishIfDrained()
            logger.warn("cannot register connection", ("error", LogValue(error)))
            return
        }
        if let service { await service.serve(connection) }
        connection.close()
        ServiceStats.shared.connectionClosed()
        if let acceptor, acceptor.isSuspended, acceptor.admits() { acceptor.admit() }
        finishIfDrained()
    }

    // MARK: Master channel and signals

    private func readChannel() {
        while true {
            let result: ChannelIO.ReceiveResult
            do { result = try ChannelIO.receive(on: launch.channel) } catch { result = .closed }
            switch result {
            case .empty:
                return
            case .closed:
                loop.removeSource(launch.channel)
                drain(deadline: Instant.now + config.gracefulTimeout, reason: "master gone")
                return
            case .malformed:
                logger.warn("malformed channel message")
            case let .message(.quit(deadline)):
                drain(deadline: deadline, reason: "quit")
            case .message(.reopenLogs):
                reopenLogs()
            case let .message(.rotation(inRotation)):
                loop.isOutOfRotation = !inRotation
            case .message(.ready), .message(.heartbeat), .message(.recycle), .message(.stackReport):
                logger.warn("unexpected channel message from master")
            }
        }
    }

    private func readSignals() {
        let signals = (try? terminate.drain()) ?? []
        if signals.contains(.terminate) { drain(deadline: Instant.now + config.gracefulTimeout, reason: "SIGTERM") }
    }

    private func send(_ message: ChannelMessage) {
        do {
            try ChannelIO.send(message, on: launch.channel)
        } catch {
            drain(deadline: Instant.now + config.gracefulTimeout, reason: "master gone")
        }
    }

    private func scheduleHeartbeat() {
        loop.schedule(after: config.heartbeatInterval) {
            LoopActor.assumeIsolated {
                guard self.drainDeadline == nil else { return }
                if self.recycleRequested { self.send(.recycle) }
                self.heapReturn.check()
                self.send(self.heartbeat())
                self.scheduleHeartbeat()
            }
        }
    }

    /// The last figures, sent as the worker exits (the master reads its channel before it reaps),
    /// so what it served while draining reaches the master's totals.
    private func sendFinalHeartbeat() {
        _ = try? ChannelIO.send(heartbeat(), on: launch.channel)
    }

    /// The figures so far.
    private func heartbeat() -> ChannelMessage {
        let stats = ServiceStats.shared
        let traffic = stats.traffic
        var figures = WorkerStats(
            requests: stats.requests, connectionsAccepted: stats.accepted, openConnections: stats.open,
            residentBytes: UInt64(Process.residentBytes()), maxLoopLagMicroseconds: loop.takeMaxLagMicroseconds())
        figures.requestsByMethodStatus = Array(traffic.byMethodStatus)
        figures.durationBuckets = Array(traffic.durationBuckets)
        figures.durationSumMicroseconds = traffic.durationSumMicroseconds
        figures.bytesWritten = traffic.bytesWritten
        figures.connectionsRefused = traffic.connectionsRefused
        figures.echoConnections = traffic.echoConnections
        figures.echoConnectionsOpen = traffic.echoConnectionsOpen
        figures.echoLines = traffic.echoLines
        return .heartbeat(figures)
    }

    // MARK: Recycling and logs

    /// `--max-requests`: past the limit (plus this worker's own jitter, so a generation started
    /// together does not recycle together), ask the master for a successor and keep serving until
    /// it is ready and we are asked to quit.
    private func limitRequests() {
        guard config.maxRequests > 0 else { return }
        let jitter = config.maxRequestsJitter > 0 ? Int.random(in: 0...config.maxRequestsJitter) : 0
        let limit = UInt64(config.maxRequests) + UInt64(jitter)
        ServiceStats.shared.requestLimit = limit
        ServiceStats.shared.onRequestLimit = { [unowned self] in
            logger.info("max requests reached; asking to be replaced", ("requests", LogValue(ServiceStats.shared.requests)), ("limit", LogValue(limit)))
            recycleRequested = true
            send(.recycle)
        }
    }

    /// USR1, relayed by the master: our log file (stderr) and the service's own (access log).
    private func reopenLogs() {
        LogFile.reopen(config.logFile, logger: logger)
        do {
            try service?.reopenLogs()
        } catch {
            logger.error("cannot reopen the access log; still writing to the old one", ("error", .string(String(describing: error))))
        }
    }

    // MARK: Draining

    /// Take what is queued, stop accepting, let connections finish (a service decides when an idle one
    /// is done: HTTP at its keep-alive timeout or next request, echo when the client closes or idles
    /// out); at `deadline`, abandon the rest.
    private func drain(deadline: Instant, reason: String) {
        if let current = drainDeadline, current <= deadline { return }
        let first = drainDeadline == nil
        drainDeadline = deadline
        if first {
            logger.info("worker draining", ("reason", .string(reason)), ("connections", LogValue(ServiceStats.shared.open)),
                        ("deadline_s", .string(deadline.since(.now).secondsText)))
            // What is queued already is served: on a stop the master has made the listeners refuse
            // new connections, and closing them would reset every connection still queued.
            acceptor?.stop(takingQueued: true)
            acceptor = nil
            loop.wakeIdleConnections()
            BackgroundTasks.shared.cancelAll()
        }
        drainTimer?.cancel()
        drainTimer = loop.schedule(after: deadline.since(.now)) {
            LoopActor.assumeIsolated { self.abandon() }
        }
        finishIfDrained()
    }

    private func abandon() {
        logger.warn("drain deadline reached; closing connections", ("connections", LogValue(ServiceStats.shared.open)))
        loop.cancelAllWaits()
        // Tasks see the cancellation on their next turn and close; exit regardless shortly after.
        loop.schedule(after: .milliseconds(500)) { [self] in
            LoopActor.assumeIsolated { sendFinalHeartbeat() }
            Process.exitImmediately(0)
        }
        finishIfDrained()
    }

    /// Done once no connection is open and no background task runs (they are cancelled by the
    /// drain and get its deadline to return).
    private func finishIfDrained() {
        if drainDeadline != nil && ServiceStats.shared.open == 0 && BackgroundTasks.shared.count == 0 {
            sendFinalHeartbeat()
            loop.stop()
        }
    }

    private func watchBackgroundTasks() {
        let tasks = BackgroundTasks.shared
        tasks.onEmpty = { [unowned self] in finishIfDrained() }
        tasks.onFailure = { [logger] name, error in
            logger.error("background task failed", ("task", .string(name)), ("error", .string(String(describing: error))))
        }
    }
}
