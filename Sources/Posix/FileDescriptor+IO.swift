import CLinux
import Glibc

/// The hot path's reads and writes on a non-blocking descriptor (the socket calls for a connection,
/// the file calls for pipes, counters and logs): one syscall each, `EINTR` retried, the outcome an
/// `IOResult`. They do as much as the kernel takes now and report how much; waiting for readiness
/// is the event loop's business. Always inlined: the optimizer otherwise keeps some as calls,
/// which cost more than the funnel saves.
extension FileDescriptor {
    /// `read(2)` into `buffer`: bytes read, `.endOfStream` at the peer's FIN.
    @inlinable @inline(__always)
    public func readSome(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        ioSyscall(zeroIsEndOfStream: true) { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` of `bytes`: may take fewer than given.
    @inlinable @inline(__always)
    public func writeSome(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        ioSyscall(zeroIsEndOfStream: false) { Glibc.write(rawValue, bytes.baseAddress, bytes.count) }
    }

    /// `writev(2)` of `first` then `second` in one call (a response head and its body). The
    /// two-element array does not escape, so the optimizer puts it on the stack: no allocation,
    /// and (unlike a tuple behind `withUnsafeMutableBytes`) no stack canary in the caller. Not
    /// through `ioSyscall`'s closure: captured there, the array is built as a stack object.
    @inlinable @inline(__always)
    public func writeSome(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> IOResult {
        var vectors = [iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)]
        while true {
            if let outcome = ioOutcome(Glibc.writev(rawValue, &vectors, 2), zeroIsEndOfStream: false) { return outcome }
        }
    }

    /// `recv(2)` into `buffer`, for a socket: what `readSome` does, without the file layer `read(2)`
    /// goes through first (position lock, permission hook, fsnotify). With `read` and `write` that
    /// layer was 4.0% of a worker's CPU on small keep-alive requests, with `recv` and `send` 1.3%
    /// (DESIGN.md, "The worker's event loop").
    @inlinable @inline(__always)
    public func receiveSome(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        ioSyscall(zeroIsEndOfStream: true) { Glibc.recv(rawValue, buffer.baseAddress, buffer.count, 0) }
    }

    /// `send(2)` of `bytes`, for a socket: `writeSome` without the file layer, and with
    /// `MSG_NOSIGNAL`, so a peer that reset the connection gives `EPIPE` and never `SIGPIPE`.
    @inlinable @inline(__always)
    public func sendSome(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        ioSyscall(zeroIsEndOfStream: false) { Glibc.send(rawValue, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL)) }
    }

    /// `sendmsg(2)` of `first` then `second` in one call, for a socket: the two-buffer `writeSome`
    /// the way `sendSome` is the one-buffer one.
    @inlinable @inline(__always)
    public func sendSome(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> IOResult {
        ioSyscall(zeroIsEndOfStream: false) {
            clinux_send_two(rawValue, first.baseAddress, first.count, second.baseAddress, second.count)
        }
    }

    /// `sendfile(2)` of up to `count` bytes of `file` from `offset` to this descriptor (a socket):
    /// the kernel copies from the page cache, no byte passes through this process. `offset`
    /// advances by what was sent; `.endOfStream` when the file ended before `offset`.
    @inlinable @inline(__always)
    public func sendFileSome(from file: FileDescriptor, offset: inout Int, count: Int) -> IOResult {
        var position = off_t(offset)
        let result = ioSyscall(zeroIsEndOfStream: true) { Glibc.sendfile(rawValue, file.rawValue, &position, count) }
        offset = Int(position)
        return result
    }
}
