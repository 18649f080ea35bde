import Posix

/// `--log-file`: the log is standard error, pointed at a file.
///
/// Every line is already one `write(2)` on fd 2, so redirecting fd 2 is all it takes, and the file
/// follows the master into every worker it forks. On USR1 (logrotate renamed the file) the master
/// and each worker open the path again and `dup2` it over fd 2: the old file gets no further line,
/// and no line is ever lost or torn between the two.
public enum LogFile {
    public static func redirectStandardError(to path: String) throws(SystemError) {
        let file = try open(path)
        defer { file.close() }
        try install(file)
    }

    /// USR1 (logrotate renamed the file): point standard error at `path` again. A file that
    /// cannot be opened is logged, and lines keep going to the old one.
    public static func reopen(_ path: String?, logger: Logger) {
        guard let path else { return }
        do {
            try redirectStandardError(to: path)
        } catch {
            logger.error("cannot reopen log file; still writing to the old one", ("error", LogValue(error)))
        }
    }

    /// Opens `path` for appending, without touching standard error yet: a reload opens the new
    /// file first, and installs it only once nothing else can refuse the reload.
    public static func open(_ path: String) throws(SystemError) -> FileDescriptor {
        try FileSystem.open(path, [.writeOnly, .append, .create], permissions: 0o644)
    }

    /// Makes `file` standard error (the caller still closes `file`).
    public static func install(_ file: FileDescriptor) throws(SystemError) {
        try file.duplicate(onto: FileDescriptor.standardError.rawValue)
    }
}
