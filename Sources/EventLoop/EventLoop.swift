import Posix

/// A worker's event loop: one epoll instance, one thread, one executor, one timer heap.
///
/// Created in the worker after `fork` (never in the master), driven by `run()` on the worker's main
/// thread until `stop()`. Everything here is confined to that thread; the type is
/// `@unchecked Sendable` only so the executor and the actor can reach it.
public final class EventLoop: @unchecked Sendable {
    /// Internal, not private: tests share the process's one loop (`Tests/LoopTests`).
    nonisolated(unsafe) static var installed: EventLoop?

    /// The loop of this process. Only valid after `EventLoop.boot()` in a worker.
    public static var current: EventLoop {
        guard let installed else { preconditionFailure("EventLoop.boot() must run before any loop work (in the worker, after fork)") }
        return installed
    }

    /// Creates this process's loop. Throws when the kernel refuses epoll or eventfd: the worker
    /// then exits with the boot-failure code.
    @discardableResult
    public static func boot() throws(SystemError) -> EventLoop {
        precondition(installed == nil, "one loop per process")
        let loop = try EventLoop()
        installed = loop
        return loop
    }

    public let executor: LoopExecutor
    let epoll: Epoll
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) private var handles: [IOHandle?] = []
    private var nextToken: UInt32 = 1
    private var sources: [CInt: () -> Void] = [:]
    @exclusivity(unchecked) var timers = TimerHeap()
    /// Internal, not private: a test drives `turn` itself, with this set (`Tests/LoopTests`).
    @exclusivity(unchecked) var running = false
    /// Set when the worker starts draining; idle reads then end instead of waiting.
    public var isDraining: Bool { draining }
    @exclusivity(unchecked) private var draining = false
    /// The server is out of its load balancer's rotation (`--shutdown-delay`, `supervisor drain`):
    /// health checks answer 503 while every other request is still served.
    public var isOutOfRotation = false
    /// The monotonic time at the start of this loop turn; cheaper than a clock read per use.
    /// (Set by a test too, when it starts driving the loop again after a pause.)
    public var now: UInt64 { turnStarted }
    @exclusivity(unchecked) var turnStarted: UInt64 = Instant.now.nanoseconds
    // The two getters above are there for the exclusivity check: code in another module that reads
    // a class's stored property directly gets the check in its own code, whatever the attribute on
    // the declaration (seen in the release build: a `swift_beginAccess` per request for
    // `isDraining`). A getter keeps the access, and the attribute, in this module.
    /// The worst timer lateness since the last `takeMaxLag()`.
    @exclusivity(unchecked) private var maxLag: UInt64 = 0
    /// A buffer any handler may read into, valid until its next suspension point.
    public let sharedBuffer: UnsafeMutableRawBufferPointer

    private init() throws(SystemError) {
        epoll = try Epoll(capacity: 512)
        executor = try LoopExecutor()
        sharedBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        try addSource(executor.wakeup.fd, exclusive: false) { [executor] in executor.adoptRemoteJobs() }
    }

    // MARK: Registration

    /// Registers a connection-like descriptor (edge-triggered, both directions) for async I/O.
    func register(_ fd: FileDescriptor) throws(SystemError) -> IOHandle {
        let token = nextToken
        nextToken = nextToken == UInt32.max ? 1 : nextToken + 1
        let handle = IOHandle(fd: fd, token: token, loop: self)
        try epoll.add(fd, interest: [.input, .output, .peerClosed, .edgeTriggered],
                      data: UInt64(token) << 32 | UInt64(UInt32(bitPattern: fd.rawValue)))
        let index = Int(fd.rawValue)
        if index >= handles.count { handles.append(contentsOf: repeatElement(nil, count: index + 1 - handles.count + 64)) }
        handles[index] = handle
        return handle
    }

    /// Closes a registered descriptor and wakes anything still waiting on it.
    func close(_ handle: IOHandle) {
        guard !handle.isClosed else { return }
        handle.isClosed = true
        let index = Int(handle.fd.rawValue)
        if index < handles.count, handles[index] === handle { handles[index] = nil }
        handle.fd.close()
        // Its heap entry would keep it (and its connection's memory) until the deadline: seconds,
        // thousands of connections at a high rate of short ones (see `TimerHeap`).
        timers.remove(handle)
        handle.resumeRead(.cancelled)
        handle.resumeWrite(.cancelled)
    }

    /// Registers a level-triggered descriptor whose readiness runs `onReadable` on the loop
    /// (listeners, the master channel, signalfd). `exclusive` adds `EPOLLEXCLUSIVE`, for a listening
    /// socket shared with other workers: one connection wakes one worker, not every one.
    public func addSource(_ fd: FileDescriptor, exclusive: Bool, onReadable: @escaping () -> Void) throws(SystemError) {
        try epoll.add(fd, interest: exclusive ? [.input, .exclusive] : .input, data: UInt64(UInt32(bitPattern: fd.rawValue)))
        sources[fd.rawValue] = onReadable
    }

    /// Removes a source. Needed before closing a descriptor another process still holds open
    /// (a listener): epoll forgets a registration only when the last descriptor of the file closes.
    public func removeSource(_ fd: FileDescriptor) {
        // Fails only for a descriptor that was never added or is closed: then there is nothing to forget.
        _ = try? epoll.remove(fd)
        sources[fd.rawValue] = nil
    }

    // MARK: Timers

    /// Calls `action` on the loop after `delay`. The returned timer can be cancelled.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping () -> Void) -> LoopTimer {
        LoopTimer(loop: self, at: now &+ UInt64(max(0, delay.nanoseconds)), action: action)
    }

    /// The worst lateness of a timer since the previous call, in microseconds.
    public func takeMaxLagMicroseconds() -> UInt64 {
        defer { maxLag = 0 }
        return maxLag / 1000
    }

    // MARK: Running

    /// Runs jobs, I/O and timers until `stop()`.
    public func run() {
        running = true
        while running { turn(waitingAtMost: nil) }
    }

    /// One turn: the jobs queued so far, one wait for I/O (until the earliest timer, and at most
    /// `limit` nanoseconds), its events, the timers due. Returns the number of events dispatched.
    /// `run()` passes no limit, which inlining folds away; a test drives the loop turn by turn
    /// with one, up to its own deadline (`Tests/LoopTests`).
    @inline(__always) @discardableResult
    func turn(waitingAtMost limit: UInt64?) -> Int {
        executor.runQueuedJobs()
        guard running else { return 0 }
        let count: Int
        if executor.hasWork {
            count = wait(nanoseconds: 0)
        } else if let earliest = timers.earliest {
            let current = Instant.now.nanoseconds
            let due = earliest > current ? earliest - current : 0
            count = wait(nanoseconds: limit.map { min($0, due) } ?? due)
        } else {
            count = wait(nanoseconds: limit)
        }
        turnStarted = Instant.now.nanoseconds
        for index in 0..<count { dispatch(epoll.event(at: index)) }
        fireTimers()
        return count
    }

    public func stop() { running = false }

    /// Waits for events (see `Epoll.wait`). A failure other than a signal means the loop's own
    /// epoll instance is broken (`EBADF`, `EFAULT`): the worker stops loudly (the master replaces
    /// it) rather than spin on it.
    @inline(__always)
    private func wait(nanoseconds: UInt64?) -> Int {
        do {
            return try epoll.wait(nanoseconds: nanoseconds)
        } catch {
            preconditionFailure("the event loop cannot wait: \(error)")
        }
    }

    @inline(__always)
    private func dispatch(_ event: (events: Epoll.Events, data: UInt64)) {
        let data = event.data
        let fd = CInt(bitPattern: UInt32(truncatingIfNeeded: data))
        let token = UInt32(truncatingIfNeeded: data >> 32)
        if token == 0 {
            sources[fd]?()
            return
        }
        let index = Int(fd)
        guard index < handles.count, let handle = handles[index], handle.token == token else { return }
        let flags = event.events
        if !flags.isDisjoint(with: [.input, .peerClosed, .hangUp, .error]) {
            handle.readReady = true
            if !flags.isDisjoint(with: [.peerClosed, .hangUp, .error]) { handle.peerClosed = true }
            handle.resumeRead(.ready)
        }
        if !flags.isDisjoint(with: [.output, .hangUp, .error]) {
            handle.resumeWrite(.ready)
        }
    }

    private func fireTimers() {
        while let (deadline, target) = timers.popDue(now: now) {
            let late = now - deadline
            if late > maxLag { maxLag = late }
            target.timerFired(now: now)
        }
    }

    // MARK: Draining

    private var idleWaiters: [IOHandle] { handles.compactMap { $0 }.filter { $0.readWaiter != nil && $0.readIsIdle } }

    /// Ends every wait for an idle connection's next request (the handler then closes it, unless a
    /// last non-blocking read finds that a request did arrive).
    public func wakeIdleConnections() {
        draining = true
        for handle in idleWaiters { handle.resumeRead(.draining) }
    }

    /// Ends every wait: the drain deadline has come and in-flight work is abandoned.
    public func cancelAllWaits() {
        for case let handle? in handles {
            handle.resumeRead(.cancelled)
            handle.resumeWrite(.cancelled)
        }
    }
}
