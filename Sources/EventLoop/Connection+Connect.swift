import Glibc
import Posix

extension Connection {
    /// Opens a client connection to `address` on the loop: a non-blocking `connect`, then a wait
    /// for the socket to be writable of at most `timeout`. Throws the `connect` error
    /// (`ECONNREFUSED`, `ETIMEDOUT` when `timeout` passed first, `ECANCELED` when the loop closed
    /// everything), with the address; the socket is closed then, never leaked.
    public static func connect(to address: SocketAddress, timeout: Duration?) async throws(SystemError) -> Connection {
        let (fd, connected) = try Socket.startConnect(to: address)
        let connection: Connection
        do { connection = try Connection(adopting: fd) } catch {
            fd.close()
            throw error.on(address.description)
        }
        connection.countsResponseBytes = false  // our requests, not responses to our clients
        if connected { return connection }
        let failure: SystemError?
        switch await connection.waitWritable(timeout: timeout) {
        case .ready: failure = Socket.connectOutcome(fd, to: address)
        case .timedOut: failure = SystemError("connect", errno: Errno(rawValue: ETIMEDOUT), object: address.description)
        case .draining, .cancelled: failure = SystemError("connect", errno: Errno(rawValue: ECANCELED), object: address.description)
        }
        guard let failure else { return connection }
        connection.close()
        throw failure
    }
}
