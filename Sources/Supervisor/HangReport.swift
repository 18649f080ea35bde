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

    /// The report of each worker in `hung` (pid and channel), keyed by pid. Every worker is asked at
    /// once and the answers are awaited together, so several hung workers cost one `wait`, not one each.
    static func collect(_ hung: [(pid: ProcessID, channel: FileDescriptor?)], wait: Duration) -> [ProcessID: [(String, LogValue)]] {
        // The kernel's view first: the handler would move the worker out of where it waits.
        let kernel = Dictionary(hung.map { ($0.pid, KernelWait.sample(pid: $0.pid)) }) { first, _ in first }
        let outcomes = requestFrames(hung, wait: wait)
        var reports: [ProcessID: [(String, LogValue)]] = [:]
        for (pid, _) in hung {
            var fields: [(String, LogValue)] = []
            switch outcomes[pid] ?? .none("not asked") {
            case let .frames(frames): fields.append(("stack", .string(named(frames, in: pid))))
            case let .none(why): fields.append(("stack", .string("none (\(why))")))
            }
            if let channel = kernel[pid]?.waitChannel { fields.append(("wchan", .string(channel))) }
            if let call = kernel[pid]?.syscall { fields.append(("syscall", .string(call))) }
            if let stack = kernel[pid]?.kernelStack { fields.append(("kernel_stack", .string(stack))) }
            reports[pid] = fields
        }
        return reports
    }

    /// `a+0x1c < b+0x40 < …`, innermost first.
    static func named(_ frames: [UInt64], in pid: ProcessID) -> String {
        var symbolizer = StackSymbolizer(pid: pid)
        return frames.prefix(loggedFrames).enumerated().map { index, address in
            symbolizer.name(address, isReturnAddress: index > 0) { mangled in
                let name = StackSymbolizer.demangle(mangled)
                return name.count <= longestName ? name : name.prefix(longestName) + "…"
            }
        }.joined(separator: " < ")
    }

    enum Outcome {
        case frames([UInt64])
        case none(String)
    }

    /// Signals the workers and reads their channels until each has answered or closed, or `wait`
    /// is over; whatever else a channel holds (a heartbeat sent too late) is dropped.
    static func requestFrames(_ hung: [(pid: ProcessID, channel: FileDescriptor?)], wait: Duration) -> [ProcessID: Outcome] {
        var outcomes: [ProcessID: Outcome] = [:]
        var waiting: [FileDescriptor: ProcessID] = [:]
        for (pid, channel) in hung {
            guard let channel else {
                outcomes[pid] = .none("no channel")
                continue
            }
            do {
                try StackReporter.request(from: pid)
                waiting[channel] = pid
            } catch {
                outcomes[pid] = .none(error.description)
            }
        }
        let deadline = Instant.now + wait
        while !waiting.isEmpty {
            let now = Instant.now
            guard now < deadline else { break }
            let ready = (try? Poll.waitReadable(Array(waiting.keys), timeout: deadline.since(now))) ?? []
            for channel in ready {
                guard let pid = waiting[channel], let outcome = readReport(channel) else { continue }
                outcomes[pid] = outcome
                waiting[channel] = nil
            }
        }
        for pid in waiting.values { outcomes[pid] = .none("no answer in \(wait.milliseconds) ms") }
        return outcomes
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
