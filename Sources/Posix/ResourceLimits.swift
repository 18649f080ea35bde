import Glibc

/// `RLIMIT_NOFILE`.
public enum ResourceLimits {
    /// Raises the soft limit on open descriptors to the hard limit, so thousands of connections fit
    /// without the operator remembering `ulimit -n`. Returns the new soft limit.
    @discardableResult
    public static func raiseOpenFilesToHardLimit() throws(SystemError) -> UInt64 {
        var limit = rlimit()
        _ = try syscall("getrlimit") { getrlimit(RLIMIT_NOFILE_VALUE, &limit) }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = try syscall("setrlimit") { setrlimit(RLIMIT_NOFILE_VALUE, &limit) }
        }
        return UInt64(limit.rlim_cur)
    }

    public static var openFilesSoftLimit: UInt64 {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }

    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
