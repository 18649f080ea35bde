import EventLoop
import Posix

/// Keep-alive connections per origin, at most `limit` open per origin; a request beyond the cap
/// waits its turn (first come, first served). An idle connection is closed after `idleTimeout`,
/// by one timer for the whole pool, so a busy client adds no timer per request. A request that
/// waits for a slot waits no longer than its total timeout, when it has one.
@LoopActor
final class ConnectionPool {
    private struct Slots {
        var idle: [ClientConnection] = []
        var open = 0
        var waiters: [Waiter] = []
    }

    /// A request waiting for a slot: resumed with true when one frees, false when its time ran out.
    private final class Waiter {
        var continuation: UnsafeContinuation<Bool, Never>?
        var deadline: LoopTimer?

        func resume(_ woken: Bool) {
            deadline?.cancel()
            deadline = nil
            continuation.take()?.resume(returning: woken)
        }
    }

    private let limit: Int
    private let idleTimeout: Duration
    private var origins: [Origin: Slots] = [:]
    private var expiry: LoopTimer?
    private(set) var connectionsOpened = 0

    init(limit: Int, idleTimeout: Duration) {
        self.limit = max(1, limit)
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `origin` ready for a request, or nil when the caller may open a new
    /// one (its slot is taken: give it back with `closed` if the connect fails). Waits while the
    /// origin is at its cap, at most what `timer` leaves of the total timeout.
    func acquire(_ origin: Origin, timer: ExchangeTimer) async throws(HTTPClientError) -> ClientConnection? {
        while true {
            var slots = origins[origin, default: Slots()]
            while let connection = slots.idle.popLast() {
                if connection.isReusable {
                    origins[origin] = slots
                    return connection
                }
                connection.close()
                slots.open -= 1
            }
            if slots.open < limit {
                slots.open += 1
                connectionsOpened += 1
                origins[origin] = slots
                return nil
            }
            origins[origin] = slots
            let left = try timer.totalLeft()
            let waiter = Waiter()
            let woken = await withUnsafeContinuation { continuation in
                waiter.continuation = continuation
                origins[origin, default: Slots()].waiters.append(waiter)
                if let left {
                    waiter.deadline = EventLoop.current.schedule(after: left) { [weak self] in
                        LoopActor.assumeIsolated {
                            self?.origins[origin]?.waiters.removeAll { $0 === waiter }
                            waiter.resume(false)
                        }
                    }
                }
            }
            guard woken else { throw timer.timedOut(left ?? .zero, "waiting for a free connection to \(origin)") }
        }
    }

    /// Puts a connection back after its exchange: kept idle if it can carry another, else closed.
    func release(_ connection: ClientConnection, reusable: Bool) {
        guard reusable, !connection.connection.isClosed else { return closed(connection) }
        let loop = EventLoop.current
        connection.idleSince = loop.now
        origins[connection.origin, default: Slots()].idle.append(connection)
        if expiry == nil { expiry = loop.schedule(after: idleTimeout) { [weak self] in LoopActor.assumeIsolated { self?.expire() } } }
        wakeOne(connection.origin)
    }

    /// A connection of `origin` is gone (closed, or its connect failed): its slot is free.
    func closed(_ connection: ClientConnection) {
        connection.close()
        slotFreed(connection.origin)
    }

    func slotFreed(_ origin: Origin) {
        origins[origin, default: Slots()].open -= 1
        wakeOne(origin)
    }

    /// Closes every idle connection (the open ones close when their exchange ends).
    func closeIdle() {
        for (origin, var slots) in origins {
            for connection in slots.idle { connection.close() }
            slots.open -= slots.idle.count
            slots.idle = []
            origins[origin] = slots
        }
        expiry?.cancel()
        expiry = nil
    }

    private func wakeOne(_ origin: Origin) {
        guard var slots = origins[origin], !slots.waiters.isEmpty else { return }
        let waiter = slots.waiters.removeFirst()
        origins[origin] = slots
        waiter.resume(true)
    }

    private func expire() {
        do {
            expiry = nil
            let loop = EventLoop.current
            let timeout = UInt64(max(0, idleTimeout.nanoseconds))
            var earliest: UInt64?
            for (origin, var slots) in origins {
                let (stale, fresh) = (slots.idle.filter { loop.now &- $0.idleSince >= timeout }, slots.idle.filter { loop.now &- $0.idleSince < timeout })
                for connection in stale { connection.close() }
                slots.open -= stale.count
                slots.idle = fresh
                origins[origin] = slots
                if let first = fresh.map(\.idleSince).min() { earliest = min(earliest ?? first, first) }
                for _ in stale { wakeOne(origin) }
            }
            if let earliest {
                let left = Duration.nanoseconds(Int64(earliest &+ timeout &- loop.now))
                expiry = loop.schedule(after: left) { [weak self] in LoopActor.assumeIsolated { self?.expire() } }
            }
        }
    }
}
