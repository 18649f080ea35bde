import Glibc

/// What a read or write on a non-blocking descriptor did: the hot path's result, a value rather
/// than a thrown error, in the style of SwiftNIO's `IOResult`.
///
/// `EAGAIN` is the normal case of a non-blocking socket, not a failure: the caller parks until the
/// next epoll edge. Throwing for it (as `syscall` does for errors) would cost an existential box
/// per wait; a value costs a switch.
public enum IOResult: Equatable, Sendable {
    /// The kernel took or gave this many bytes (zero only for an empty buffer).
    case processed(Int)
    /// A read returned 0: the peer closed its side. For `sendfile`, the source file ended early.
    case endOfStream
    /// `EAGAIN`/`EWOULDBLOCK`: nothing can move now; wait for readiness.
    case wouldBlock
    /// Any other `errno`. The caller names the call when it reports it (`SystemError`).
    case failed(Errno)
}

/// The hot path's funnel, beside `syscall` and `nonBlockingSyscall`: retries `EINTR`, turns
/// `EAGAIN` into `.wouldBlock` and any other `-1` into `.failed`, and never throws or allocates.
///
/// Inlined (the others are `@inline(never)`): the call and the read of `errno` are adjacent and
/// nothing between them is a reference, so no retain, release or call can clobber `errno`; and
/// inlined, the funnel costs nothing per request (scripts/instructions-per-request).
/// `zeroIsEndOfStream`: a 0 from `read`/`sendfile` is the end; from `write` it is 0 bytes.
@inlinable @inline(__always)
func ioSyscall(zeroIsEndOfStream: Bool, _ body: () -> Int) -> IOResult {
    while true {
        if let outcome = ioOutcome(body(), zeroIsEndOfStream: zeroIsEndOfStream) { return outcome }
    }
}

/// The classification `ioSyscall` makes of one call's return value, reading `errno` for a `-1`;
/// nil for `EINTR` (call again). For a caller whose call cannot sit in a closure: capturing a
/// local array there costs it its promotion to the stack (`writev`'s vector).
@inlinable @inline(__always)
func ioOutcome(_ result: Int, zeroIsEndOfStream: Bool) -> IOResult? {
    if result > 0 { return .processed(result) }
    if result == 0 { return zeroIsEndOfStream ? .endOfStream : .processed(0) }
    let error = errno
    if error == EINTR { return nil }
    if error == EAGAIN || error == EWOULDBLOCK { return .wouldBlock }
    return .failed(Errno(rawValue: error))
}
