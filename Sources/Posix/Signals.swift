import CLinux
import Glibc

/// A POSIX signal, with the names operators type (`kill -HUP`).
public struct Signal: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let hangup = Signal(rawValue: SIGHUP)
    public static let interrupt = Signal(rawValue: SIGINT)
    public static let quit = Signal(rawValue: SIGQUIT)
    public static let kill = Signal(rawValue: SIGKILL)
    public static let terminate = Signal(rawValue: SIGTERM)
    public static let user1 = Signal(rawValue: SIGUSR1)
    public static let user2 = Signal(rawValue: SIGUSR2)
    public static let child = Signal(rawValue: SIGCHLD)
    public static let pipe = Signal(rawValue: SIGPIPE)
    public static let ttyInput = Signal(rawValue: SIGTTIN)
    public static let ttyOutput = Signal(rawValue: SIGTTOU)
    public static let stop = Signal(rawValue: SIGSTOP)
    public static let `continue` = Signal(rawValue: SIGCONT)
    public static let segmentationFault = Signal(rawValue: SIGSEGV)

    public var name: String {
        switch rawValue {
        case SIGHUP: "HUP"
        case SIGINT: "INT"
        case SIGQUIT: "QUIT"
        case SIGKILL: "KILL"
        case SIGTERM: "TERM"
        case SIGUSR1: "USR1"
        case SIGUSR2: "USR2"
        case SIGCHLD: "CHLD"
        case SIGPIPE: "PIPE"
        case SIGTTIN: "TTIN"
        case SIGTTOU: "TTOU"
        case SIGSEGV: "SEGV"
        case SIGABRT: "ABRT"
        case SIGBUS: "BUS"
        case SIGILL: "ILL"
        case SIGFPE: "FPE"
        case SIGTRAP: "TRAP"
        case SIGSTOP: "STOP"
        case SIGCONT: "CONT"
        default: "\(rawValue)"
        }
    }

    public var description: String { "SIG\(name)" }
}

/// A `sigset_t`.
public struct SignalSet: Sendable {
    var raw = sigset_t()

    public init(_ signals: [Signal]) {
        sigemptyset(&raw)
        for signal in signals { sigaddset(&raw, signal.rawValue) }
    }

    public static var all: SignalSet {
        var set = SignalSet([])
        sigfillset(&set.raw)
        return set
    }

    /// `sigprocmask(SIG_BLOCK)`: the master blocks the signals it reads from its signalfd before it
    /// does anything else, so no signal is ever delivered to a handler.
    public func block() throws(SystemError) {
        var set = raw
        _ = try syscall("sigprocmask") { sigprocmask(SIG_BLOCK, &set, nil) }
    }

    /// `sigprocmask(SIG_SETMASK)`: exactly these signals blocked, every other one delivered.
    public func setAsMask() throws(SystemError) {
        var set = raw
        _ = try syscall("sigprocmask") { sigprocmask(SIG_SETMASK, &set, nil) }
    }

    /// `sigprocmask(SIG_SETMASK, empty)`: a forked worker starts with nothing blocked.
    public static func unblockAll() throws(SystemError) {
        var empty = sigset_t()
        sigemptyset(&empty)
        _ = try syscall("sigprocmask") { sigprocmask(SIG_SETMASK, &empty, nil) }
    }
}

/// Signal dispositions. No Swift handler of ours ever runs in signal context: signals are read from
/// a signalfd, so there is no async-signal-safety to get wrong. The one handler is C, in a worker:
/// the hung-worker stack report (`StackReporter`).
public enum SignalDisposition {
    public static func ignore(_ signals: [Signal]) {
        for signal in signals { _ = Glibc.signal(signal.rawValue, SIG_IGN) }
    }

    public static func reset(_ signals: [Signal]) {
        for signal in signals { _ = Glibc.signal(signal.rawValue, SIG_DFL) }
    }
}

/// A `signalfd(2)`: blocked signals arrive as readable records on a descriptor, in the same loop as
/// everything else.
public struct SignalDescriptor: Sendable {
    public let fd: FileDescriptor

    public init(_ signals: SignalSet) throws(SystemError) {
        var set = signals.raw
        let raw = try syscall("signalfd") { signalfd(-1, &set, CInt(SFD_CLOEXEC) | CInt(SFD_NONBLOCK)) }
        fd = FileDescriptor(rawValue: raw)
    }

    /// Reads every pending signal; empty when none is pending.
    public func drain() throws(SystemError) -> [Signal] {
        var signals: [Signal] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let count = try withUnsafeMutableBytes(of: &info) { (raw) throws(SystemError) in try fd.read(into: raw) }
            guard let count, count == size else { return signals }
            signals.append(Signal(rawValue: CInt(info.ssi_signo)))
        }
    }
}
