import Glibc
import Posix

@testable import EventLoop

/// A scripted HTTP server on the test's loop, for the client's tests: it accepts on loopback (or
/// a unix socket), counts the connections it accepted, reads each request head (and, when the
/// script asks, a body up to a marker) and lets the script answer with raw bytes, so a test can
/// send what no real server would (a close mid-body, a stall, a reset).
@LoopActor
final class RawHTTPServer {
    /// One accepted connection, as the script sees it.
    @LoopActor
    final class Exchange {
        let connection: Connection
        /// The requests' bytes read so far and not taken by `readHead`/`read(until:)`.
        private(set) var pending: [UInt8] = []
        let index: Int

        init(connection: Connection, index: Int) {
            self.connection = connection
            self.index = index
        }

        /// The next request head, or nil once the client closed.
        func readHead() async -> String? {
            guard let bytes = await read(until: Array("\r\n\r\n".utf8)) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// The bytes up to and including `marker`, or nil if the client closed first.
        func read(until marker: [UInt8]) async -> [UInt8]? {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                if let range = pending.firstRange(of: marker) {
                    let taken = Array(pending[..<range.upperBound])
                    pending.removeFirst(range.upperBound)
                    return taken
                }
                guard case .bytes(let count) = await connection.read(into: buffer, timeout: .seconds(20)), count > 0 else { return nil }
                pending.append(contentsOf: buffer[0..<count])
            }
        }

        func send(_ text: String) async -> Bool { await send(Array(text.utf8)) }

        func send(_ bytes: [UInt8]) async -> Bool {
            await connection.write(remaining: bytes, timeout: .seconds(20))
        }

        /// Closes with a reset (`SO_LINGER` 0) instead of a FIN.
        func reset() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(connection.fd.rawValue, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            connection.close()
        }
    }

    let address: SocketAddress
    private let listener: FileDescriptor
    private let taskExecutor: any TaskExecutor
    private let script: @Sendable @LoopActor (Exchange) async -> Void
    private(set) var accepted = 0
    /// Connections whose script returned (the client closed, or the script was done).
    private(set) var finished = 0

    /// `script` runs once per accepted connection, with its own task; the connection closes when
    /// it returns.
    init(on bind: SocketAddress = .ipv4(host: "127.0.0.1", port: 0), testLoop: TestLoop,
         script: @escaping @Sendable @LoopActor (Exchange) async -> Void) throws {
        listener = try Socket.listen(on: bind, backlog: 64)
        address = bind.isUnix ? bind : try Socket.localAddress(of: listener)
        taskExecutor = testLoop.taskExecutor
        self.script = script
        try testLoop.loop.addSource(listener, exclusive: false) { [weak self] in
            LoopActor.assumeIsolated { self?.acceptAll() }
        }
    }

    var url: String {
        switch address {
        case .unix(let path): "http+unix://" + path.replacingSlashes + "/"
        default: "http://\(address)/"
        }
    }

    private func acceptAll() {
        while let fd = try? Socket.accept(listener) {
            accepted += 1
            guard let connection = try? Connection(adopting: fd) else { fd.close(); continue }
            let exchange = Exchange(connection: connection, index: accepted)
            let script = script
            let operation: @Sendable @LoopActor () async -> Void = { [weak self] in
                await script(exchange)
                exchange.connection.close()
                self?.finished += 1
            }
            Task(executorPreference: taskExecutor, operation: operation)
        }
    }

    func close() {
        EventLoop.current.removeSource(listener)
        listener.close()
    }
}

extension String {
    fileprivate var replacingSlashes: String { split(separator: "/", omittingEmptySubsequences: false).joined(separator: "%2F") }
}
