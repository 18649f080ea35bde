import Glibc

extension Process {
    /// `exit(3)`: ends the command line's own process, running `atexit` handlers and flushing
    /// stdio. A forked worker leaves with `exitImmediately` instead.
    public static func exit(_ code: CInt) -> Never {
        Glibc.exit(code)
    }

    /// `nanosleep(2)` for `duration`, resumed after a signal until it has all passed: for a
    /// command-line client polling a condition, never on an event loop.
    public static func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && Errno.current == .interrupted { request = remaining }
    }
}
