import CLinux

extension Signal {
    /// `SIGRTMIN+4`: the master asks a worker that missed its heartbeat deadline where it is, just
    /// before its SIGKILL. A real-time signal because no terminal or tool sends one by accident, and
    /// because the worker ignores `QUIT` (the terminal sends that to the whole process group).
    public static let stackReport = Signal(rawValue: clinux_realtime_signal(4))
}

/// The worker's side of the hung-worker report: a C signal handler (the shim's
/// `clinux_install_stack_reporter`) that sends the interrupted stack's return addresses to the
/// master as one `ChannelMessage.stackReport` packet. The master symbolizes them (`ExecutableSymbols`).
public enum StackReporter {
    /// The most frames one report carries.
    public static let maximumFrames = Int(CLINUX_STACK_REPORT_FRAMES)
    /// The channel tag the handler writes, so `ChannelMessage` decodes what C encoded.
    public static let channelTag = UInt8(CLINUX_STACK_REPORT_TAG)

    /// Asks `pid` for its report: `tgkill(2)` to its main thread (the worker's loop; a `kill` could
    /// be delivered to any of its threads, such as a blocking-pool one that is idle).
    public static func request(from pid: ProcessID) throws(SystemError) {
        _ = try syscall("tgkill(SIGRTMIN+4)") { clinux_signal_thread(pid, pid, Signal.stackReport.rawValue) }
    }

    /// `sigaction(2)` for `Signal.stackReport`, the report going to `channel`. Call it first in a
    /// forked worker: until it runs, the signal's default action is to terminate.
    public static func install(reportingTo channel: FileDescriptor) throws(SystemError) {
        _ = try syscall("sigaction(SIGRTMIN+4)") { clinux_install_stack_reporter(Signal.stackReport.rawValue, channel.rawValue) }
    }
}
