import Glibc

/// Makes the kernel keep each handshake on `listener` open (`SYN_RECV`) until the client's first
/// bytes (`TCP_DEFER_ACCEPT`, 30 s): a handshake under way for as long as a test needs. False when
/// the option cannot be set.
public func holdHandshakesOpen(on listener: CInt) -> Bool {
    var seconds: CInt = 30
    return setsockopt(listener, CInt(IPPROTO_TCP), TCP_DEFER_ACCEPT, &seconds, socklen_t(MemoryLayout<CInt>.size)) == 0
}
