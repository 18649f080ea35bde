import Glibc

/// The one funnel every system call goes through.
///
/// Retries on `EINTR`, and turns a `-1` return into a `SystemError` that names the call. It is
/// `@inline(never)` so that nothing the optimizer moves between the call and the read of `errno`
/// can clobber it.
@inline(never)
public func syscall<Result: BinaryInteger>(
    _ name: StaticString, _ body: () -> Result
) throws(SystemError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        throw SystemError("\(name)", errno: error)
    }
}

/// Like `syscall`, but `EAGAIN` is a value (`nil`), not an error: the caller will wait for readiness.
@inline(never)
public func nonBlockingSyscall<Result: BinaryInteger>(
    _ name: StaticString, _ body: () -> Result
) throws(SystemError) -> Result? {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        if error.rawValue == EAGAIN || error.rawValue == EWOULDBLOCK { return nil }
        throw SystemError("\(name)", errno: error)
    }
}
