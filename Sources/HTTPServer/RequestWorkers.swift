import EventLoop

/// The tasks that serve HTTP connections whose next request has begun to arrive, per loop.
///
/// A task's memory is the deepest its frames ever went (the runtime keeps a task's frame slabs
/// until it ends: about 4 KiB to serve one request), so a task per connection costs that much per
/// idle keep-alive connection. Instead, a connection's own task only waits for the connection to
/// end, and its requests are served by one of these workers; between requests it waits for bytes
/// with no task at all (`Connection.whenReadable`) and is handed to a worker when they come.
/// Workers are recycled, so a request starts no task in steady state; one that finds more
/// workers waiting than `retained` ends, so a burst's workers are given back once it is over.
/// Touched only on the loop's thread: `serve` from the loop's own callback (an idle connection's
/// bytes arrived) as well as from `LoopActor` code, hence `@unchecked Sendable` and not isolated.
final class RequestWorkers: @unchecked Sendable {
    static let shared = RequestWorkers()

    /// Workers kept waiting at most.
    static let retained = 32

    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    /// Connections handed over while no worker was waiting, oldest first from `readyStart`.
    @exclusivity(unchecked) private var ready: [HTTPConnection] = []
    @exclusivity(unchecked) private var readyStart = 0
    /// Workers waiting for a connection, the one that waited least last (its memory is warm).
    @exclusivity(unchecked) private var waiting: [UnsafeContinuation<Hand, Never>] = []
    /// Workers alive, serving or waiting.
    @exclusivity(unchecked) private(set) var count = 0
    /// Workers resumed or started that have not run yet: each will look at `ready`.
    @exclusivity(unchecked) private var pending = 0

    /// What a waiting worker is resumed with.
    private enum Hand {
        /// A connection to serve: the hot path, an event for an idle connection with no queue.
        case connection(HTTPConnection)
        /// Look at the queue when you run: a worker busy with it may be held up (see `wake`).
        case lookAtQueue
        /// End: enough workers wait already.
        case end
    }

    private init() {
        waiting.reserveCapacity(Self.retained)
    }

    /// Workers waiting for a connection.
    var idle: Int { waiting.count }

    /// Hands `connection` to a worker: one that waits, when no worker is on its way to run
    /// already; else it is queued for the worker on its way, which wakes another if more are
    /// queued when it starts serving (so a worker that waits on the disk does not hold the
    /// queue), and only when none waits is a new one started. A batch of events thus wakes one
    /// worker, which serves the connections one after the other, not one task per connection.
    func serve(_ connection: HTTPConnection) {
        if pending == 0, let worker = waiting.popLast() {
            pending += 1
            worker.resume(returning: .connection(connection))
            return
        }
        ready.append(connection)
        if pending == 0 { start() }
    }

    private func start() {
        pending += 1
        count += 1
        LoopTasks.start { await RequestWorkers.shared.work() }
    }

    /// Another worker for the queued connections, in case the one serving them is held up (a
    /// handler that waits for the disk or a timer): a waiting one, or a new one. It takes from the
    /// queue only when it runs, at the next turn, so the connections are served in the order they
    /// came; the worker that woke it usually emptied the queue by then, and it waits again. (Handed
    /// the oldest queued connection at once, as before, that connection waited a turn behind all
    /// the others of its batch: a p99 of 1.7 ms instead of 1.4 at c=100 on the hello route.)
    private func wake() {
        if let worker = waiting.popLast() {
            pending += 1
            worker.resume(returning: .lookAtQueue)
        } else {
            start()
        }
    }

    /// The oldest queued connection, if any.
    private func takeReady() -> HTTPConnection? {
        guard readyStart < ready.count else { return nil }
        let connection = ready[readyStart]
        readyStart += 1
        if readyStart == ready.count {
            ready.removeAll(keepingCapacity: ready.capacity <= 64)
            readyStart = 0
        }
        return connection
    }

    @LoopActor
    private func work() async {
        pending -= 1
        var next = takeReady()
        serving: while true {
            if let connection = next {
                if readyStart < ready.count && pending == 0 { wake() }
                await connection.serveUntilIdle()
                next = takeReady()
                continue
            }
            // Decided where the worker parks: a task may be suspended on its way into the call,
            // and every worker of a burst would then find the list short.
            // `@Sendable`, so not isolated: an isolated closure handed to the runtime gets a
            // dynamic isolation check (`swift_task_isCurrentExecutor`) per call.
            let hand: Hand = await withUnsafeContinuation { @Sendable worker in
                if self.waiting.count < Self.retained { self.waiting.append(worker) } else { worker.resume(returning: .end) }
            }
            switch hand {
            case let .connection(connection):
                pending -= 1
                next = connection
            case .lookAtQueue:
                pending -= 1
                next = takeReady()
            case .end:
                break serving
            }
        }
        count -= 1
    }
}
