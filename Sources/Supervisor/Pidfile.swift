import Glibc
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

    public init(path: String) { self.path = path }

    /// The pid the file names, if it exists and holds one.
    public func read() -> ProcessID? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingBlanks
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
        let raw = try syscall("open") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        let fd = FileDescriptor(rawValue: raw)
        do {
            try fd.closeAfter { (fd) throws(SystemError) in
                try fd.writeAll("\(pid)\n")
                _ = try syscall("fsync") { fsync(fd.rawValue) }
            }
            _ = try syscall("rename") { rename(temporary, path) }
        } catch {
            _ = unlink(temporary)
            throw error.on(path)
        }
    }

    /// Removes the file only if it still names `pid`: after a binary upgrade it names the new master.
    public func remove(ifOwnedBy pid: ProcessID = Process.id) {
        if read() == pid { _ = unlink(path) }
    }
}
