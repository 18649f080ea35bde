import Channel
import Logging
import Posix

/// Where a worker that missed its heartbeat deadline was, for the one line logged before its SIGKILL.
///
/// Chosen for one-thread workers and a static binary: the master sends `Signal.stackReport`; the
/// worker's C handler (`StackReporter`, async-signal-safe) sends back the return addresses of the
/// interrupted stack, and the master names them from the executable's own symbol table and the
/// worker's `/proc/PID/maps` (a fork has the master's layout, so no file is ever written by the
/// worker). A watchdog thread would break "a worker is one thread"; the Swift runtime's backtracer
/// (`SWIFT_BACKTRACE`) is started by crashes only, kills the process itself, and runs a helper
/// executable (`swift-backtrace`) that a static deployment does not ship. The kernel's view
/// (`/proc/PID/wchan`, `syscall`, `stack`) is read first, before the signal moves the worker, and
/// logged with it: a worker that cannot run its handler (stopped, or stuck in the kernel) still says
/// where it waits. The master waits at most `wait` for the report, then kills regardless.
enum HangReport {
    /// The most frames put on the log line, and the longest name of one (a closure's demangled
    /// name spells its whole context), so the line stays readable.
    static let loggedFrames = 10
    static let longestName = 160

    static func collect(pid: ProcessID, channel: FileDescriptor?, wait: Duration) -> [(String, LogValue)] {
        let kernel = KernelWait.sample(pid: pid)
        var fields: [(String, LogValue)] = []
        switch requestFrames(pid: pid, channel: channel, wait: wait) {
        case let .frames(frames):
            var symbolizer = StackSymbolizer(pid: pid)
            let names = frames.prefix(loggedFrames).enumerated().map { index, address in
                symbolizer.name(address, isReturnAddress: index > 0) { mangled in
                    let name = StackSymbolizer.demangle(mangled)
                    return name.count <= longestName ? name : name.prefix(longestName) + "…"
                }
            }
            fields.append(("stack", .string(names.joined(separator: " < "))))
        case let .none(why):
            fields.append(("stack", .string("none (\(why))")))
        }
        if let channel = kernel.waitChannel { fields.append(("wchan", .string(channel))) }
        if let call = kernel.syscall { fields.append(("syscall", .string(call))) }
        if let stack = kernel.kernelStack { fields.append(("kernel_stack", .string(stack))) }
        return fields
    }

    enum Outcome {
        case frames([UInt64])
        case none(String)
    }

    /// Signals the worker and reads its channel until the report comes, the channel closes or
    /// `wait` is over; what else the channel holds (a heartbeat sent too late) is dropped.
    static func requestFrames(pid: ProcessID, channel: FileDescriptor?, wait: Duration) -> Outcome {
        guard let channel else { return .none("no channel") }
        do {
            try StackReporter.request(from: pid)
        } catch {
            return .none(error.description)
        }
        let deadline = Instant.now + wait
        while true {
            let now = Instant.now
            guard now < deadline else { return .none("no answer in \(wait.milliseconds) ms") }
            let ready = (try? Poll.waitReadable([channel], timeout: deadline.since(now))) ?? []
            if !ready.isEmpty, let outcome = readReport(channel) { return outcome }
        }
    }

    /// What the channel holds now: the report, its end, or nil to wait on.
    private static func readReport(_ channel: FileDescriptor) -> Outcome? {
        while true {
            switch (try? ChannelIO.receive(on: channel)) ?? .closed {
            case let .message(.stackReport(frames)): return .frames(frames)
            case .message, .malformed: continue
            case .empty: return nil
            case .closed: return .none("channel closed")
            }
        }
    }
}
