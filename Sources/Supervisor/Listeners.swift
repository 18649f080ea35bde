import Logging
import Posix

/// The master's listening sockets: bound once before any worker is forked, and held open for as
/// long as their address is configured, so the accept queue outlives any one worker.
///
/// One socket per address, shared by every worker (each worker registers it in its own epoll with
/// `EPOLLEXCLUSIVE`, so a new connection wakes one worker, not all). Per-worker `SO_REUSEPORT`
/// sockets were the alternative; they lose the connections queued on a socket whose worker slot
/// goes away (scale down, or a reload to fewer workers) unless `tcp_migrate_req` is on, and a
/// shared queue has no such hole. See the README's design notes.
public struct Listeners {
    public struct Listener: Sendable {
        public let configured: SocketAddress
        /// The address actually bound (with the real port when 0 was configured).
        public let bound: SocketAddress
        public let fd: FileDescriptor
        /// Bound by this process (not inherited from systemd or an old master): only then is a unix
        /// socket's file ours to remove.
        public var ownsFile = true
    }

    public private(set) var all: [Listener] = []

    public init() {}

    /// Binds every address or none: on the first failure the ones already bound are closed.
    /// Without `sharing`, an address another process listens on is refused (`--share-port`).
    public static func bind(_ addresses: [SocketAddress], backlog: Int32, sharing: Bool = false) throws(SystemError) -> Listeners {
        var listeners = Listeners()
        for address in addresses {
            do {
                let fd = try Socket.listen(on: address, backlog: backlog, sharing: sharing)
                let bound = (try? Socket.localAddress(of: fd)) ?? address
                listeners.all.append(Listener(configured: address, bound: address.isUnix ? address : bound, fd: fd))
            } catch {
                listeners.closeAll()
                throw error
            }
        }
        return listeners
    }

    /// Like `bind`, but an address for which a socket was inherited (socket activation, or the old
    /// master of a binary upgrade) uses that socket, its queue and all: matched by the name a binary
    /// upgrade gives it, else by the address it is bound to. Returns the inherited sockets no address
    /// asked for.
    public static func open(_ addresses: [SocketAddress], backlog: Int32, sharing: Bool = false,
                            adopting inherited: [InheritedSocket]) throws(SystemError) -> (Listeners, unused: [InheritedSocket]) {
        var available = inherited
        var listeners = Listeners()
        for address in addresses {
            let match = available.firstIndex { $0.name == handoverName(address) }
                ?? available.firstIndex { $0.address == address && !address.hasEphemeralPort }
            if let match {
                let socket = available.remove(at: match)
                listeners.all.append(Listener(configured: address, bound: socket.address ?? address, fd: socket.fd, ownsFile: false))
                continue
            }
            do {
                let fresh = try Listeners.bind([address], backlog: backlog, sharing: sharing)
                listeners.all += fresh.all
            } catch {
                // Only what this call bound is closed; inherited sockets are the caller's.
                for listener in listeners.all where listener.ownsFile { close(listener) }
                throw error
            }
        }
        return (listeners, available)
    }

    /// The name a listening socket carries in `LISTEN_FDNAMES` when an old master hands it over: its
    /// configured address, with `%` and `:` escaped because the list is colon-separated.
    public static func handoverName(_ address: SocketAddress) -> String {
        address.description.replacingAll("%", with: "%25").replacingAll(":", with: "%3A")
    }

    public var descriptors: [FileDescriptor] { all.map(\.fd) }

    /// A reload's new `bind` list: binds the addresses that are new (all or none, so a failure
    /// leaves everything as it was), keeps the sockets of the ones that stay (their queues are never
    /// touched), and takes out the ones no longer listed. Their sockets are returned, not closed:
    /// the caller closes its copy, and the kernel closes the socket once the old workers, which
    /// hold their own copies, have drained and exited.
    public mutating func update(to addresses: [SocketAddress], backlog: Int32, sharing: Bool = false) throws(SystemError) -> (added: [Listener], removed: [Listener]) {
        let existing = Set(all.map(\.configured))
        let fresh = try Listeners.bind(addresses.filter { !existing.contains($0) }, backlog: backlog, sharing: sharing)
        let wanted = Set(addresses)
        let removed = all.filter { !wanted.contains($0.configured) }
        var byAddress: [SocketAddress: Listener] = [:]
        for listener in all + fresh.all { byAddress[listener.configured] = listener }
        all = addresses.compactMap { byAddress[$0] }
        return (fresh.all, removed)
    }

    /// No new connection joins these sockets' queues from now on (see `Socket.refuseNewConnections`):
    /// before a stop, and before an address a reload removed goes away, so that the workers can
    /// accept everything queued before the last descriptor closes. Returns the failures.
    public static func refuseNewConnections(_ listeners: [Listener]) -> [SystemError] {
        var failures: [SystemError] = []
        for listener in listeners {
            do throws(SystemError) {
                try Socket.refuseNewConnections(listener.fd)
            } catch {
                failures.append(error.on(listener.bound.description))
            }
        }
        return failures
    }

    /// Closes one socket taken out by `update`, and removes its file if it is a unix socket.
    public static func close(_ listener: Listener, removingFile: Bool = true) {
        listener.fd.close()
        if removingFile, listener.ownsFile, case let .unix(path) = listener.configured { try? FileSystem.remove(path) }
    }

    /// Closes every socket, and removes the files of unix sockets we created.
    /// `removingFiles: false` after a binary upgrade: the new master serves those unix sockets.
    public mutating func closeAll(removingFiles: Bool = true) {
        for listener in all { Listeners.close(listener, removingFile: removingFiles) }
        all = []
    }
}

extension SocketAddress {
    /// A TCP address with port 0: the kernel picks the port, so no inherited socket can be known to
    /// be "the same address" by comparing addresses.
    var hasEphemeralPort: Bool {
        switch self {
        case let .ipv4(_, port), let .ipv6(_, port): port == 0
        case .unix: false
        }
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
