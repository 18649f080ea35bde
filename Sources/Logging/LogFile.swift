import Glibc
import Posix

/// `--log-file`: the log is standard error, pointed at a file.
///
/// Every line is already one `write(2)` on fd 2, so redirecting fd 2 is all it takes, and the file
/// follows the master into every worker it forks. On USR1 (logrotate renamed the file) the master
/// and each worker open the path again and `dup2` it over fd 2: the old file gets no further line,
/// and no line is ever lost or torn between the two.
public enum LogFile {
    public static func redirectStandardError(to path: String) throws(SystemError) {
        let raw: CInt
        do {
            raw = try syscall("open") { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) }
        } catch {
            throw error.on(path)
        }
        defer { _ = close(raw) }
        _ = try syscall("dup2") { dup2(raw, STDERR_FILENO) }
    }
}
