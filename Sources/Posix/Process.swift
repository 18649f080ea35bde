import CLinux
import Glibc

/// A process id.
public typealias ProcessID = pid_t

/// How a child ended, decoded from `waitpid`'s status.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(code: CInt)
    case signaled(Signal)

    public init(waitStatus status: CInt) {
        if clinux_wifsignaled(status) != 0 {
            self = .signaled(Signal(rawValue: clinux_wtermsig(status)))
        } else {
            self = .exited(code: clinux_wexitstatus(status))
        }
    }

    /// `exit:0`, `exit:3`, `signal:KILL`: the form log lines use.
    public var description: String {
        switch self {
        case let .exited(code): "exit:\(code)"
        case let .signaled(signal): "signal:\(signal.name)"
        }
    }
}

/// Process system calls.
public enum Process {
    public static var id: ProcessID { getpid() }
    public static var parentID: ProcessID { getppid() }

    /// `fork(2)`. Returns 0 in the child. Only the master calls it, and only while it has one thread.
    public static func fork() throws(SystemError) -> ProcessID {
        try syscall("fork") { Glibc.fork() }
    }

    /// `waitpid(-1, WNOHANG)`: one exited child, or `nil` when none is waiting to be reaped.
    public static func reapAny() throws(SystemError) -> (pid: ProcessID, status: ExitStatus)? {
        var status: CInt = 0
        let pid: pid_t
        do {
            pid = try syscall("waitpid") { waitpid(-1, &status, WNOHANG) }
        } catch where error.errno == .noChildren {
            return nil
        }
        guard pid > 0 else { return nil }
        return (pid, ExitStatus(waitStatus: status))
    }

    /// `waitpid(pid, 0)`: blocks until that child ends.
    public static func wait(for pid: ProcessID) throws(SystemError) -> ExitStatus {
        var status: CInt = 0
        _ = try syscall("waitpid") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }

    /// `kill(2)`. `ESRCH` (already gone) is not an error: the reaper will see it.
    public static func signal(_ pid: ProcessID, _ signal: Signal) throws(SystemError) {
        do {
            _ = try syscall("kill") { Glibc.kill(pid, signal.rawValue) }
        } catch where error.errno == .noSuchProcess {
            return
        }
    }

    /// True when a process with this id exists (and we may signal it).
    public static func isAlive(_ pid: ProcessID) -> Bool {
        guard pid > 0 else { return false }
        return Glibc.kill(pid, 0) == 0 || Errno.current.rawValue == EPERM
    }

    /// True once `pid` has exited, even while it waits as a zombie for a parent that is not us to
    /// reap it (`kill(pid, 0)` still succeeds then): its state in `/proc/PID/stat` is `Z`.
    public static func hasExited(_ pid: ProcessID) -> Bool {
        guard isAlive(pid) else { return true }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return !isAlive(pid) }
        defer { _ = Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so look after the last ')'.
        guard count > 0, let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")), close + 2 < count else { return false }
        return buffer[close + 2] == UInt8(ascii: "Z")
    }

    /// `execv(2)`: replaces this process with `path`, given `arguments` (argv[0] first) and the
    /// current environment. Returns only if it failed, with why.
    public static func execute(_ path: String, arguments: [String]) -> SystemError {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        _ = execv(path, &argv)
        let error = SystemError("execv", errno: .current, object: path)
        for pointer in argv { free(pointer) }
        return error
    }

    /// The program file a binary upgrade should run: `argv[0]` made absolute (against the
    /// directory we started in, or by a `PATH` search), *not* resolved through symlinks, so that
    /// replacing the file or repointing a symlink at a new release is what gets executed; the
    /// running image (`/proc/self/exe`) only if `argv[0]` cannot be found.
    public static func executablePath(invokedAs argv0: String, environment: [String: String]) -> String? {
        func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
        if argv0.contains("/") {
            if argv0.hasPrefix("/") { return argv0 }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { return nil }
            let directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return directory + "/" + argv0
        }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(argv0)"
            if isExecutable(candidate) { return candidate }
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `prctl(PR_SET_PDEATHSIG)`: the kernel sends `signal` to this process when its parent dies.
    public static func setParentDeathSignal(_ signal: Signal) throws(SystemError) {
        _ = try syscall("prctl") { clinux_set_parent_death_signal(signal.rawValue) }
    }

    /// `_exit(2)`: a forked worker leaves without running the master's `atexit` handlers or flushing
    /// stdio buffers it inherited.
    public static func exitImmediately(_ code: CInt) -> Never {
        _exit(code)
    }

    /// Number of CPUs this process may run on (`sched_getaffinity`, so `taskset` is respected), the default worker count.
    public static var availableCPUs: Int {
        let count = clinux_available_cpus()
        if count > 0 { return Int(count) }
        return max(1, Int(sysconf(CInt(_SC_NPROCESSORS_ONLN))))
    }

    /// Resident set size in bytes, from `/proc/self/statm`.
    public static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { _ = Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(CInt(_SC_PAGESIZE)))
    }
}
