import CLinux
import Glibc

/// A raw file descriptor. A value type with no ownership semantics of its own: whoever opened it
/// closes it (`closeAfter` makes that hard to forget).
public struct FileDescriptor: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    public var description: String { "fd \(rawValue)" }

    /// `close(2)`. Never retried on `EINTR`: on Linux the descriptor is gone either way, and a retry
    /// could close a descriptor another part of the program just received.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Runs `body`, then closes the descriptor whatever happened.
    public func closeAfter<R, E: Error>(_ body: (FileDescriptor) throws(E) -> R) throws(E) -> R {
        defer { close() }
        return try body(self)
    }

    /// `fcntl(F_SETFL, O_NONBLOCK)`.
    public func setNonBlocking(_ on: Bool = true) throws(SystemError) {
        let flags = try syscall("fcntl") { clinux_fcntl_getfl(rawValue) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try syscall("fcntl") { clinux_fcntl_setfl(rawValue, wanted) } }
    }

    /// `fcntl(F_SETFD, FD_CLOEXEC)` on or off: off only for a descriptor deliberately handed to an
    /// `exec`ed program (socket activation, binary upgrade).
    public func setCloseOnExec(_ on: Bool) throws(SystemError) {
        let flags = try syscall("fcntl") { clinux_fcntl_getfd(rawValue) }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags { _ = try syscall("fcntl") { clinux_fcntl_setfd(rawValue, wanted) } }
    }

    /// A `CLOEXEC` copy at the lowest free number >= `minimum` (`F_DUPFD_CLOEXEC`).
    public func duplicate(atLeast minimum: CInt) throws(SystemError) -> FileDescriptor {
        FileDescriptor(rawValue: try syscall("fcntl") { clinux_fcntl_dupfd_cloexec(rawValue, minimum) })
    }

    /// `dup2(2)`: a copy at exactly `target` (closing what was there), inherited across `exec`.
    public func duplicate(onto target: CInt) throws(SystemError) {
        _ = try syscall("dup2") { dup2(rawValue, target) }
    }

    public var isCloseOnExec: Bool { clinux_fcntl_getfd(rawValue) & FD_CLOEXEC != 0 }

    /// `read(2)`; returns `nil` on `EAGAIN`, 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlockingSyscall("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)`; returns `nil` on `EAGAIN`. May write fewer bytes than given.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlockingSyscall("write") { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes all of `bytes` to a blocking descriptor (logs, pidfiles).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let written = try syscall("write") { Glibc.write(rawValue, rest.baseAddress, rest.count) }
            offset += written
        }
    }

    public func writeAll(_ string: String) throws(SystemError) {
        var string = string
        let result: Result<Void, SystemError> = string.withUTF8 { bytes in
            Result { () throws(SystemError) in try writeAll(UnsafeRawBufferPointer(bytes)) }
        }
        try result.get()
    }

    /// `pipe2(O_CLOEXEC | flags)`.
    public static func pipe(flags: CInt = 0) throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [CInt] = [-1, -1]
        _ = try syscall("pipe2") { fds.withUnsafeMutableBufferPointer { clinux_pipe2($0.baseAddress, O_CLOEXEC | flags) } }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Closes every descriptor from 3 up except those in `keep`: a forked worker must not hold the
    /// master's signalfd, other workers' channels or the pidfile. Uses `close_range(2)` between the
    /// kept descriptors, falling back to `/proc/self/fd` on kernels without it.
    public static func closeAll(except keep: Set<CInt>) {
        let kept = keep.filter { $0 >= 3 }.sorted()
        var first: CInt = 3
        var fallback = false
        for fd in kept + [CInt.max] {
            if fd > first {
                let last = fd == CInt.max ? UInt32.max : UInt32(fd - 1)
                if clinux_close_range(UInt32(first), last) != 0 { fallback = true }
            }
            if fd == CInt.max { break }
            first = fd + 1
        }
        guard fallback else { return }
        for fd in openDescriptors() where fd >= 3 && !keep.contains(fd) { _ = Glibc.close(fd) }
    }

    /// The descriptors open in this process, from `/proc/self/fd`.
    public static func openDescriptors() -> [CInt] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var result: [CInt] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = CInt(name), fd != own { result.append(fd) }
        }
        return result
    }
}
