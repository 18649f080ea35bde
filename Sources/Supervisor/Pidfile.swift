import Posix

/// The master's pidfile: written after the listeners are bound (so its presence means "serving"),
/// atomically (temp file + rename, never a half-written number), removed at exit if it is still ours.
public struct Pidfile: Sendable {
    public let path: String

    public struct Conflict: Error, CustomStringConvertible {
        public let path: String
        public let pid: ProcessID
        public var description: String { "pidfile \(path) names process \(pid), which is running: is another master using it?" }
    }

    /// The pidfile cannot be created where it is asked for: its directory is missing, is not a
    /// directory, or is not writable. The control socket goes in the same directory.
    public struct DirectoryError: Error, CustomStringConvertible {
        public let path: String
        public let directory: String
        public let error: SystemError
        public var description: String { "pidfile \(path) cannot be created in \(directory): \(error)" }
    }

    public init(path: String) { self.path = path }

    /// The directory the file (and the control socket beside it) goes in.
    public var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Checks, before anything is bound, that the file can be created: its directory exists, is a
    /// directory, and may be written to (the trailing `/` makes `access` refuse a regular file).
    public func checkDirectory() throws(DirectoryError) {
        let directory = directory
        let probe = directory.hasSuffix("/") ? directory : directory + "/"
        do {
            try FileSystem.checkAccess(probe, .write)
        } catch {
            throw DirectoryError(path: path, directory: directory, error: error)
        }
    }

    /// The pid the file names, if it exists and holds one.
    public func read() -> ProcessID? {
        guard let bytes = try? FileSystem.readFile(path, limit: 32), !bytes.isEmpty else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingBlanks
        guard let pid = ProcessID(text), pid > 0 else { return nil }
        return pid
    }

    /// Refuses when the file names a live process other than this one. A stale file is fine: it
    /// will be replaced.
    public func checkNotRunning() throws(Conflict) {
        if let pid = read(), pid != Process.id, Process.isAlive(pid) { throw Conflict(path: path, pid: pid) }
    }

    public func write(pid: ProcessID = Process.id) throws(SystemError) {
        let temporary = "\(path).\(pid).tmp"
        do {
            let fd = try FileSystem.open(temporary, [.writeOnly, .create, .truncate], permissions: 0o644)
            try fd.closeAfter { (fd) throws(SystemError) in
                try fd.writeAll("\(pid)\n")
                try fd.synchronize()
            }
            try FileSystem.rename(temporary, to: path)
        } catch {
            try? FileSystem.remove(temporary)
            throw error.on(path)
        }
    }

    /// Removes the file only if it still names `pid`: after a binary upgrade it names the new master.
    public func remove(ifOwnedBy pid: ProcessID = Process.id) {
        if read() == pid { try? FileSystem.remove(path) }
    }
}
