import Glibc

/// This process's environment variables (`getenv`, `setenv`, `unsetenv`).
///
/// glibc's environment has no lock: `setenv` and `unsetenv` may free a string that a `getenv` on
/// another thread is still reading. Change it only while the process has one thread (the master
/// before it forks, the command line), as `InheritedSockets` and the binary upgrade do.
public enum Environment {
    /// `getenv(3)`: the value, or nil when the variable is unset.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The variables among `names` that are set, with their values.
    public static func values(_ names: [String]) -> [String: String] {
        var found: [String: String] = [:]
        for name in names {
            if let value = value(name) { found[name] = value }
        }
        return found
    }

    /// `setenv(3)`, replacing any value: `EINVAL` for an empty name or one with `=`.
    public static func set(_ name: String, to value: String) throws(SystemError) {
        do {
            _ = try syscall("setenv") { setenv(name, value, 1) }
        } catch {
            throw error.on(name)
        }
    }

    /// `unsetenv(3)`; a variable that is not set is no error.
    public static func remove(_ name: String) throws(SystemError) {
        do {
            _ = try syscall("unsetenv") { unsetenv(name) }
        } catch {
            throw error.on(name)
        }
    }
}
