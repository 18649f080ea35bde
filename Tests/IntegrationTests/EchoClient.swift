import Foundation
import Glibc

/// A blocking TCP client with receive and send timeouts: the echo service's client, and the
/// connection under HTTPTestClient.
/// `@unchecked Sendable`: it only holds an fd, and a socket may be written on one thread while it is
/// read on another.
final class EchoClient: @unchecked Sendable {
    let fd: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(port: UInt16, timeout: TimeInterval = 10) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        fd = try Self.connected(family: AF_INET, to: &address, naming: "", timeout: timeout)
    }

    /// A connection to a unix stream socket.
    init(unixPath path: String, timeout: TimeInterval = 10) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        fd = try Self.connected(family: AF_UNIX, to: &address, naming: " \(path)", timeout: timeout)
    }

    /// A stream socket with receive and send timeouts, connected to `address`.
    private static func connected<Address>(family: Int32, to address: inout Address, naming name: String,
                                           timeout: TimeInterval) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw Failure(description: "connect\(name): errno \(error)")
        }
        return fd
    }

    private var isOpen = true

    deinit { if isOpen { Glibc.close(fd) } }

    /// Closes with RST (`SO_LINGER` 0): a client that vanishes mid-request.
    func abort() {
        guard isOpen else { return }
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
        isOpen = false
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        try send(bytes: &bytes)
    }

    func send(bytes: inout [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads until `count` bytes arrived, EOF, or the timeout.
    func receive(_ count: Int) throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - received.count), 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += buffer[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads exactly `count` bytes (fewer only at EOF).
    func receiveBytes(_ count: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while received.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - received.count), 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += buffer[..<n]
        }
        return received
    }

    /// Reads bytes until the peer closes (or the timeout).
    func receiveAll() throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return received }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += buffer[..<n]
        }
    }

    /// Sends a line and returns what came back (the same number of bytes, if all is well).
    func echo(_ line: String) throws -> String {
        try send(line)
        return try receive(line.utf8.count)
    }

    /// True when the server closed the connection (EOF or reset) within the timeout.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}
