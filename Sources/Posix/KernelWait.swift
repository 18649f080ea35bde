/// What the kernel says a process is doing, from `/proc/PID/{wchan,syscall,stack}`: the fallback
/// (and the complement) of a user-space stack report. Each entry is read on its own and simply
/// left out when it cannot be read: `stack` needs `CAP_SYS_ADMIN`, `syscall` ptrace access, and a
/// process may vanish between two reads.
public struct KernelWait: Equatable, Sendable {
    /// The kernel function it sleeps in (`do_epoll_wait`); `running` when it is on a CPU.
    public var waitChannel: String?
    /// The system call it is blocked in, by number, or `running`.
    public var syscall: String?
    /// The kernel stack, innermost first, `<`-separated.
    public var kernelStack: String?

    public init(waitChannel: String? = nil, syscall: String? = nil, kernelStack: String? = nil) {
        self.waitChannel = waitChannel
        self.syscall = syscall
        self.kernelStack = kernelStack
    }

    /// `/proc/PID/wchan` is `0` for a process that is running (or when the kernel hides it).
    static func waitChannel(_ text: String) -> String? {
        let name = text.trimmingBlanks
        guard !name.isEmpty, name.utf8.count <= 128 else { return nil }
        return name == "0" ? "running" : name
    }

    /// `/proc/PID/syscall`: `running`, `-1 <sp> <pc>` (in user space, not in a call), or the
    /// number followed by the arguments; only the number is kept.
    static func syscall(_ text: String) -> String? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first?.trimmingBlanks, !first.isEmpty else { return nil }
        if first == "running" { return "running" }
        if first == "-1" { return "none" }
        guard let number = Int(first), number >= 0 else { return nil }
        return String(number)
    }

    /// `/proc/PID/stack`: lines `[<0>] do_epoll_wait+0x5a4/0x6e0`; the function names are kept.
    static func kernelStack(_ text: String) -> String? {
        let frames = text.split(separator: "\n").compactMap { line -> Substring? in
            let name = line.split(separator: " ", omittingEmptySubsequences: true).last.map { $0.prefix { $0 != "+" } }
            return name.flatMap { $0.isEmpty ? nil : $0 }
        }
        return frames.isEmpty ? nil : frames.prefix(8).joined(separator: "<")
    }

    /// Reads what can be read now; never throws.
    public static func sample(pid: ProcessID) -> KernelWait {
        func read(_ entry: String) -> String? { TextFile.contents("/proc/\(pid)/\(entry)") }
        return KernelWait(waitChannel: read("wchan").flatMap(waitChannel), syscall: read("syscall").flatMap(syscall),
                          kernelStack: read("stack").flatMap(kernelStack))
    }
}
