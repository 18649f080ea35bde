import CLinux
import Glibc

/// An `eventfd(2)` counter: the way another thread wakes a loop sleeping in `epoll_wait`, which
/// watches the descriptor. Non-blocking and `CLOEXEC`.
public struct EventCounter: Sendable {
    public let fd: FileDescriptor

    public init() throws(SystemError) {
        fd = FileDescriptor(rawValue: try syscall("eventfd") { eventfd(0, CInt(EFD_CLOEXEC) | CInt(EFD_NONBLOCK)) })
    }

    /// Adds one (an 8-byte `write`), making the descriptor readable. Safe from any thread.
    /// `.wouldBlock` only if the counter is at its maximum, when it is readable already.
    @discardableResult
    public func increment() -> IOResult {
        var one: UInt64 = 1
        return withUnsafeBytes(of: &one) { fd.writeSome($0) }
    }

    /// Reads the count and resets it to zero (an 8-byte `read`); `.wouldBlock` when it was zero.
    @discardableResult
    public func reset() -> IOResult {
        var count: UInt64 = 0
        return withUnsafeMutableBytes(of: &count) { fd.readSome(into: $0) }
    }
}
