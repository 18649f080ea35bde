import Posix

/// Accepts connections from the listening sockets a worker was given.
///
/// Each listener is shared with the other workers and registered level-triggered with
/// `EPOLLEXCLUSIVE`, so one pending connection wakes one worker. A wakeup accepts until `EAGAIN` or
/// a batch limit (other ready sockets deserve their turn). When the process or the system runs out
/// of descriptors (`EMFILE`/`ENFILE`), accepting pauses briefly instead of spinning on a listener
/// that stays readable; the connection waits in the kernel queue meanwhile, or another worker
/// takes it.
public final class Acceptor {
    public enum Event {
        case accepted(FileDescriptor)
        /// Out of descriptors; accepting resumes after `pause`.
        case paused(SystemError, pause: Duration)
        case failed(SystemError)
    }

    private let loop: EventLoop
    private var listeners: [FileDescriptor]
    private var active: Set<CInt> = []
    private let onEvent: (Event) -> Void
    private let batch = 128
    /// Asked before each accept (`--worker-connections`): false suspends accepting until `admit()`;
    /// the connection waits in the kernel queue meanwhile, or another worker takes it.
    public var admits: () -> Bool = { true }
    /// Accepting is suspended because `admits` said no.
    public private(set) var isSuspended = false
    public static let exhaustionPause: Duration = .milliseconds(100)

    public init(loop: EventLoop, listeners: [FileDescriptor], onEvent: @escaping (Event) -> Void) {
        self.loop = loop
        self.listeners = listeners
        self.onEvent = onEvent
    }

    public func start() throws(SystemError) {
        for listener in listeners { try resume(listener) }
    }

    /// Stops accepting for good and closes this worker's copies of the listeners (the master keeps
    /// its own, so the sockets and their queues stay up for the next worker). `takingQueued` first
    /// accepts what is already queued (bounded): on a stop, or for an address a reload removed,
    /// the master has made the socket refuse new connections, and no other worker will take them.
    public func stop(takingQueued: Bool = false) {
        if takingQueued {
            for listener in listeners where active.contains(listener.rawValue) { acceptQueued(listener) }
        }
        for listener in listeners {
            if active.remove(listener.rawValue) != nil { loop.removeSource(listener) }
            listener.close()
        }
        listeners = []
    }

    private func resume(_ listener: FileDescriptor) throws(SystemError) {
        guard !active.contains(listener.rawValue), listeners.contains(listener) else { return }
        try loop.addSource(listener, exclusive: true) { [unowned self] in self.acceptReady(listener) }
        active.insert(listener.rawValue)
    }

    /// Resumes accepting after a suspension, once `admits` would say yes again.
    public func admit() {
        guard isSuspended else { return }
        isSuspended = false
        for listener in listeners {
            do throws(SystemError) { try resume(listener) } catch { onEvent(.failed(error)) }
        }
    }

    /// Leaves every listener to the other workers: removed from this loop's epoll, so a level-
    /// triggered listener cannot wake a worker that would not accept.
    private func suspend() {
        isSuspended = true
        for listener in listeners where active.remove(listener.rawValue) != nil { loop.removeSource(listener) }
    }

    private func acceptReady(_ listener: FileDescriptor) {
        for _ in 0..<batch {
            guard admits() else { return suspend() }
            do {
                guard let fd = try Socket.accept(listener) else { return }
                onEvent(.accepted(fd))
            } catch {
                if Self.clientGaveUp(error) { continue }
                switch error.errno {
                case .tooManyOpenFiles, .tooManyOpenFilesInSystem, .noBufferSpace, .outOfMemory:
                    pause(listener, error)
                    return
                default:
                    onEvent(.failed(error))
                    pause(listener, error)
                    return
                }
            }
        }
    }

    /// Accepts until the queue is empty, at most a listen backlog's worth (65535).
    private func acceptQueued(_ listener: FileDescriptor) {
        for _ in 0..<65535 {
            do {
                guard let fd = try Socket.accept(listener) else { return }
                onEvent(.accepted(fd))
            } catch where Self.clientGaveUp(error) {
                continue
            } catch {
                return
            }
        }
    }

    /// The client gave up while queued (or a firewall refused it): nothing to do, take the next.
    private static func clientGaveUp(_ error: SystemError) -> Bool {
        [.connectionAborted, .protocolError, .notPermitted].contains(error.errno)
    }

    private func pause(_ listener: FileDescriptor, _ error: SystemError) {
        guard active.remove(listener.rawValue) != nil else { return }
        loop.removeSource(listener)
        onEvent(.paused(error, pause: Self.exhaustionPause))
        loop.schedule(after: Self.exhaustionPause) { [weak self] in
            guard let self else { return }
            do throws(SystemError) { try self.resume(listener) } catch { self.onEvent(.failed(error)) }
        }
    }
}
