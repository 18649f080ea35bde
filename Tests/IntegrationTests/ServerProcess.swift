import Foundation
import Glibc
import XCTest

/// The real `supervisor` binary, started as a child of the test with its log in a temp file.
///
/// Every wait polls for a condition with a generous deadline (never a fixed sleep), so the tests
/// hold on a busy two-core machine. `stop()` (also called from `deinit`) kills the master and every
/// worker it ever logged, by PID, so no test leaves a process behind.
final class ServerProcess {
    let pid: pid_t
    let directory: String
    let logPath: String
    private var reaped: Int32?

    static let deadline: TimeInterval = 20

    /// The directory holding the test bundle holds the built executables too.
    static func binary(_ name: String) -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/supervisor-test.XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return "/tmp" }
            return String(cString: result)
        }
    }

    /// Starts `binary` with `arguments`; with `openFileLimit`, under that hard `RLIMIT_NOFILE` (set by a
    /// shell that then `exec`s the binary, so the pid is still the master's).
    ///
    /// `binaryPath` runs another copy of the program (a binary upgrade test replaces it on disk);
    /// `environment` is added to the test's own; `launcher` is a command the binary and its
    /// arguments are appended to (`sh -c '... exec "$0" "$@"'`, `unshare ...`); `passing` puts
    /// descriptors at fixed numbers in the child (socket activation).
    init(_ arguments: [String], binary: String = "supervisor", binaryPath: String? = nil, openFileLimit: Int? = nil,
         environment: [String: String] = [:], launcher: [String] = [], passing: [(fd: Int32, at: Int32)] = []) throws {
        directory = Self.temporaryDirectory()
        logPath = directory + "/server.log"
        var path = binaryPath ?? Self.binary(binary)
        var arguments = arguments
        if let openFileLimit {
            arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", path] + arguments
            path = "/bin/sh"
        }
        if let first = launcher.first {
            arguments = Array(launcher.dropFirst()) + [path] + arguments
            path = first
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in passing { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let result = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard result == 0 else {
            throw NSError(domain: "posix_spawn \(path)", code: Int(result))
        }
        pid = child
    }

    deinit { stop() }

    // MARK: Log

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func lines(containing needle: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(needle) }
    }

    /// Waits until the log has at least `count` lines containing every one of `needles`.
    @discardableResult
    func waitForLog(_ needles: String..., count: Int = 1, timeout: TimeInterval = deadline,
                    file: StaticString = #filePath, line: UInt = #line) -> [String] {
        var found: [String] = []
        let ok = waitUntil(timeout: timeout) {
            found = self.log.split(separator: "\n").map(String.init).filter { line in needles.allSatisfy { line.contains($0) } }
            return found.count >= count
        }
        if !ok { XCTFail("log never had \(count)× \(needles); log:\n\(log)", file: file, line: line) }
        return found
    }

    /// The port of the first TCP listener, from the `listening` log line.
    func port(file: StaticString = #filePath, line: UInt = #line) -> UInt16 {
        let lines = waitForLog("msg=listening", file: file, line: line)
        guard let text = lines.first, let range = text.range(of: "addr=") else { return 0 }
        let address = text[range.upperBound...].split(separator: " ")[0]
        return UInt16(address.split(separator: ":").last ?? "") ?? 0
    }

    /// Waits until `workers` workers are ready, counting from the log.
    func waitForReady(_ workers: Int, file: StaticString = #filePath, line: UInt = #line) {
        waitForLog("msg=\"worker ready\"", count: workers, file: file, line: line)
    }

    // MARK: Processes

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// The live children of the master (its workers).
    var workerPIDs: [pid_t] { Self.children(of: pid) }

    static func children(of parent: pid_t) -> [pid_t] {
        let path = "/proc/\(parent)/task/\(parent)/children"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return text.split(separator: " ").compactMap { pid_t($0) }.filter(isAlive).sorted()
        }
        return []
    }

    /// True for a process that exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    static func threadCount(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
    }

    /// Every worker pid the log ever mentioned, for cleanup.
    var loggedWorkerPIDs: [pid_t] { loggedPIDs("msg=\"worker spawned\"") }

    /// The pids of every line containing `needle`, from its ` pid=` field (or `field`).
    func loggedPIDs(_ needle: String, field: String = " pid=") -> [pid_t] {
        lines(containing: needle).compactMap { line in
            guard let range = line.range(of: field) else { return nil }
            return pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    /// Waits for the master to exit; returns its wait status decoded, or nil on timeout.
    func waitForExit(timeout: TimeInterval = deadline) -> (code: Int32?, signal: Int32?)? {
        var status: Int32 = 0
        if reaped == nil {
            let ok = waitUntil(timeout: timeout) {
                let result = waitpid(self.pid, &status, WNOHANG)
                if result == self.pid { self.reaped = status; return true }
                return false
            }
            guard ok else { return nil }
        }
        status = reaped ?? 0
        if status & 0x7f == 0 { return ((status >> 8) & 0xff, nil) }
        return (nil, status & 0x7f)
    }

    func stop() {
        // After a binary upgrade the new master is not our child: it is found in the log.
        let workers = loggedWorkerPIDs + loggedPIDs("msg=\"binary upgrade started\"", field: " new_pid=")
        if reaped == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
        for worker in workers where Self.isAlive(worker) { kill(worker, SIGKILL) }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
@discardableResult
func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
